//! The element types a `.npy` file written here can hold ([`Element`]).

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// An element type that `.npy` files here can hold: `f32` (`<f4`) or
/// `f64` (`<f8`), always little-endian.
pub trait Element: Copy + sealed::Sealed + 'static {
    /// The numpy type string, e.g. `<f4`.
    const DESCR: &'static str;
    /// Bytes per element.
    const SIZE: usize;
    /// Appends the little-endian bytes of `values` to `out`.
    fn extend_le(values: &[Self], out: &mut Vec<u8>);
    /// Decodes one element from exactly [`Self::SIZE`] little-endian bytes.
    fn from_le(bytes: &[u8]) -> Self;
}

impl Element for f32 {
    const DESCR: &'static str = "<f4";
    const SIZE: usize = 4;
    fn extend_le(values: &[f32], out: &mut Vec<u8>) {
        out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    }
    fn from_le(bytes: &[u8]) -> f32 {
        let mut b = [0; 4];
        b.copy_from_slice(bytes);
        f32::from_le_bytes(b)
    }
}

impl Element for f64 {
    const DESCR: &'static str = "<f8";
    const SIZE: usize = 8;
    fn extend_le(values: &[f64], out: &mut Vec<u8>) {
        out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    }
    fn from_le(bytes: &[u8]) -> f64 {
        let mut b = [0; 8];
        b.copy_from_slice(bytes);
        f64::from_le_bytes(b)
    }
}
