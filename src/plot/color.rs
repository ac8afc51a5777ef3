//! Colours: the named greys and the series palette.

/// A colour: red, green, blue.
pub type Rgb = [u8; 3];

/// White.
pub const WHITE: Rgb = [255, 255, 255];
/// Black.
pub const BLACK: Rgb = [0, 0, 0];
/// The grey of grid lines.
pub const GRID: Rgb = [225, 225, 225];
/// A mid grey, e.g. for the gaps between image tiles.
pub const GREY: Rgb = [128, 128, 128];

/// Series colours that stay distinct for colour-blind readers (Okabe &
/// Ito): blue, orange, bluish green, vermilion, sky blue, reddish purple,
/// yellow, black.
pub const PALETTE: [Rgb; 8] = [
    [0, 114, 178],
    [230, 159, 0],
    [0, 158, 115],
    [213, 94, 0],
    [86, 180, 233],
    [204, 121, 167],
    [240, 228, 66],
    [0, 0, 0],
];
