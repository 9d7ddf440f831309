//! Places marker labels so they do not overlap: the most important sites choose first,
//! each trying eight directions around its marker, close in and then further out (with a
//! leader line back to the marker).

/// A label to place beside a marker at `(x, y)` of radius `r`.
pub struct LabelRequest {
    pub x: f64,
    pub y: f64,
    pub r: f64,
    pub width: f64,
    pub height: f64,
}

/// Where a label's text goes, how it is anchored, and whether it needs a leader line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub x: f64,
    pub y: f64,
    pub anchor: &'static str,
    /// The point on the label's box nearest the marker, when the label stands off from it.
    pub leader: Option<(f64, f64)>,
}

#[derive(Debug, Clone, Copy)]
struct Box2 {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Box2 {
    fn overlaps(&self, o: &Box2) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

/// The box and placement for a label in direction `(dx, dy)` (each -1, 0 or 1) at `gap`.
fn candidate(q: &LabelRequest, dx: f64, dy: f64, gap: f64, leader: bool) -> (Box2, Placement) {
    let x0 = match dx {
        d if d > 0.0 => q.x + gap,
        d if d < 0.0 => q.x - gap - q.width,
        _ => q.x - q.width / 2.0,
    };
    let y0 = match dy {
        d if d > 0.0 => q.y + gap,
        d if d < 0.0 => q.y - gap - q.height,
        _ => q.y - q.height / 2.0,
    };
    let b = Box2 {
        x0,
        y0,
        x1: x0 + q.width,
        y1: y0 + q.height,
    };
    let (tx, anchor) = match dx {
        d if d > 0.0 => (b.x0, "start"),
        d if d < 0.0 => (b.x1, "end"),
        _ => (q.x, "middle"),
    };
    let near = (q.x.clamp(b.x0, b.x1), q.y.clamp(b.y0, b.y1));
    let placement = Placement {
        x: tx,
        y: b.y0 + q.height * 0.78,
        anchor,
        leader: leader.then_some(near),
    };
    (b, placement)
}

/// Requests are in priority order; the result is in the same order. `bounds` is the canvas.
pub fn place(requests: &[LabelRequest], bounds: (f64, f64)) -> Vec<Placement> {
    const DIRECTIONS: [(f64, f64); 8] = [
        (1.0, 0.0),
        (-1.0, 0.0),
        (0.0, -1.0),
        (0.0, 1.0),
        (1.0, -1.0),
        (1.0, 1.0),
        (-1.0, -1.0),
        (-1.0, 1.0),
    ];
    let markers: Vec<Box2> = requests
        .iter()
        .map(|q| Box2 {
            x0: q.x - q.r,
            y0: q.y - q.r,
            x1: q.x + q.r,
            y1: q.y + q.r,
        })
        .collect();
    let mut taken: Vec<Box2> = Vec::new();
    requests
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let near = q.r + 4.0;
            let candidates: Vec<(Box2, Placement)> =
                [(near, false), (near + 28.0, true), (near + 60.0, true)]
                    .into_iter()
                    .flat_map(|(gap, leader)| {
                        DIRECTIONS.map(|(dx, dy)| candidate(q, dx, dy, gap, leader))
                    })
                    .collect();
            let inside =
                |b: &Box2| b.x0 >= 0.0 && b.y0 >= 0.0 && b.x1 <= bounds.0 && b.y1 <= bounds.1;
            let overlaps = |b: &Box2| {
                taken.iter().filter(|t| t.overlaps(b)).count()
                    + markers
                        .iter()
                        .enumerate()
                        .filter(|(j, m)| *j != i && m.overlaps(b))
                        .count()
            };
            // The first that fits; else, rather than run off the canvas, the one on it that
            // covers the fewest other labels and markers.
            let (chosen, placement) = candidates
                .iter()
                .find(|(b, _)| inside(b) && overlaps(b) == 0)
                .or_else(|| {
                    candidates
                        .iter()
                        .filter(|(b, _)| inside(b))
                        .min_by_key(|(b, _)| overlaps(b))
                })
                .copied()
                .unwrap_or(candidates[0]);
            taken.push(chosen);
            placement
        })
        .collect()
}
