//! Map geometry: projects reference areas and sites onto an SVG canvas with `geo`.

pub mod labels;
pub mod projection;
