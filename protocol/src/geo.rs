//! Geographic computations shared by the app and the server (no I/O): Lambert-93 projection,
//! the offline street index and the street-furniture index.

pub mod furniture;
pub mod lambert93;
pub mod streets;
