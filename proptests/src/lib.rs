//! Shared helpers for the statistical suite.
