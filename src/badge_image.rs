//! Draws badge class images: a round medal in a strong colour, a white pictogram, and the
//! badge's name in large capitals on a ribbon, so that people who read little can still tell
//! badges apart (FALC: pictures first, big letters).
//!
//! Everything is drawn here from geometric shapes and a small 5×7 bitmap font, anti-aliased by
//! 4×4 supersampling, then encoded as an RGBA PNG with the `image` crate. Outside the medal and
//! ribbon the image is transparent.

use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};

/// The side, in pixels, carnet uses for class images.
pub const DEFAULT_SIZE: u32 = 512;

/// The picture in the middle of the medal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pictogram {
    /// A head wearing a safety helmet (as on the "wear head protection" sign).
    Helmet,
    /// An open hand under water drops (hand washing).
    Hand,
    /// A five-pointed star.
    Star,
}

/// What to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeImageSpec {
    /// The badge's name, written on the ribbon (wrapped on up to three lines).
    pub title: String,
    pub pictogram: Pictogram,
    /// The medal's colour; the border and the letters use a darker shade of it.
    pub colour: [u8; 3],
}

/// Draws the badge as a square RGBA PNG of `size` pixels (clamped to 32..=4096). All
/// coordinates below are on a 512-unit design grid, scaled to `size`.
pub fn draw_badge(spec: &BadgeImageSpec, size: u32) -> Vec<u8> {
    let mut canvas = Canvas::new(size.clamp(32, 4096));
    let colour = spec.colour;
    let dark = colour.map(|c| (f32::from(c) * 0.55) as u8);
    let white = [255; 3];

    // Medal: dark border, coloured disc, thin white ring.
    canvas.fill(&circle(256.0, 186.0, 182.0), dark);
    canvas.fill(&circle(256.0, 186.0, 168.0), colour);
    let ring = Shape::Difference(
        Box::new(circle(256.0, 186.0, 156.0)),
        Box::new(circle(256.0, 186.0, 150.0)),
    );
    canvas.fill(&ring, white);

    draw_pictogram(&mut canvas, spec.pictogram, colour, white);

    // Ribbon: folded tails behind, then the band with a dark outline.
    for side in [1.0f32, -1.0] {
        let x = |d: f32| 256.0 + side * d;
        let tail = [
            (196.0, 300.0),
            (250.0, 300.0),
            (226.0, 400.0),
            (250.0, 500.0),
            (196.0, 500.0),
        ];
        canvas.fill(&Shape::Polygon(tail.map(|(d, y)| (x(d), y)).to_vec()), dark);
    }
    canvas.fill(&Shape::Rect(24.0, 272.0, 488.0, 488.0), dark);
    canvas.fill(&Shape::Rect(31.0, 279.0, 481.0, 481.0), white);

    let text = TextBlock::fit(&spec.title, (40.0, 290.0, 472.0, 470.0));
    canvas.fill(&Shape::Text(text), dark);

    canvas.encode_png()
}

/// Draws the pictogram in white inside the medal, above the ribbon (centre about (256, 150)).
fn draw_pictogram(canvas: &mut Canvas, pictogram: Pictogram, colour: [u8; 3], white: [u8; 3]) {
    match pictogram {
        Pictogram::Helmet => {
            // Head, and shoulders cut by the medal's ring.
            canvas.fill(&Shape::Ellipse(256.0, 196.0, 50.0, 54.0), white);
            let shoulders = Shape::Intersection(
                Box::new(Shape::Ellipse(256.0, 322.0, 112.0, 64.0)),
                Box::new(circle(256.0, 186.0, 150.0)),
            );
            canvas.fill(&shoulders, white);
            // Dome over a coloured gap, with a ridge and a headband line, then the brim.
            let dome = Shape::Intersection(
                Box::new(Shape::Ellipse(256.0, 160.0, 80.0, 84.0)),
                Box::new(Shape::Rect(0.0, 0.0, 512.0, 160.0)),
            );
            canvas.fill(
                &Shape::Capsule((170.0, 168.0), (342.0, 168.0), 18.0),
                colour,
            );
            canvas.fill(&dome, white);
            canvas.fill(&Shape::Capsule((256.0, 88.0), (256.0, 146.0), 5.0), colour);
            canvas.fill(&Shape::Capsule((176.0, 150.0), (336.0, 150.0), 4.0), colour);
            canvas.fill(&Shape::Capsule((168.0, 168.0), (344.0, 168.0), 10.0), white);
        }
        Pictogram::Hand => {
            for (x, y, r) in [
                (206.0, 82.0, 12.0),
                (256.0, 60.0, 14.0),
                (306.0, 82.0, 12.0),
            ] {
                canvas.fill(&water_drop(x, y, r), white);
            }
            // Fingers, thumb, palm and wrist, then thin gaps between the fingers.
            for (x, top) in [
                (222.0, 128.0),
                (246.0, 114.0),
                (270.0, 118.0),
                (293.0, 134.0),
            ] {
                canvas.fill(&Shape::Capsule((x, top), (x, 190.0), 10.0), white);
            }
            canvas.fill(&Shape::Capsule((214.0, 226.0), (184.0, 182.0), 12.0), white);
            canvas.fill(&rounded_rect(208.0, 176.0, 304.0, 256.0, 18.0), white);
            canvas.fill(&Shape::Rect(224.0, 240.0, 290.0, 280.0), white);
            for x in [234.0, 258.0, 282.0] {
                canvas.fill(&Shape::Capsule((x, 150.0), (x, 184.0), 1.6), colour);
            }
        }
        Pictogram::Star => {
            let points = (0..10)
                .map(|i| {
                    let angle = std::f32::consts::PI * (i as f32 / 5.0 - 0.5);
                    let r = if i % 2 == 0 { 96.0 } else { 40.0 };
                    (256.0 + r * angle.cos(), 164.0 + r * angle.sin())
                })
                .collect();
            canvas.fill(&Shape::Polygon(points), white);
        }
    }
}

fn circle(cx: f32, cy: f32, r: f32) -> Shape {
    Shape::Ellipse(cx, cy, r, r)
}

/// A water drop: a disc with a point on top.
fn water_drop(cx: f32, cy: f32, r: f32) -> Shape {
    let (side, shoulder) = (r * 0.96, cy - r * 0.28);
    let tip = vec![
        (cx - side, shoulder),
        (cx, cy - r * 2.4),
        (cx + side, shoulder),
    ];
    Shape::Union(vec![circle(cx, cy, r), Shape::Polygon(tip)])
}

fn rounded_rect(x0: f32, y0: f32, x1: f32, y1: f32, r: f32) -> Shape {
    Shape::Union(vec![
        Shape::Rect(x0 + r, y0, x1 - r, y1),
        Shape::Rect(x0, y0 + r, x1, y1 - r),
        circle(x0 + r, y0 + r, r),
        circle(x1 - r, y0 + r, r),
        circle(x0 + r, y1 - r, r),
        circle(x1 - r, y1 - r, r),
    ])
}

type Point = (f32, f32);
/// A box (x0, y0, x1, y1).
type Bounds = (f32, f32, f32, f32);

/// A region of the 512-unit design grid.
enum Shape {
    /// Centre and radii (cx, cy, rx, ry).
    Ellipse(f32, f32, f32, f32),
    /// Corners (x0, y0, x1, y1).
    Rect(f32, f32, f32, f32),
    /// A thick line segment with round ends: from, to, radius.
    Capsule(Point, Point, f32),
    /// A polygon, filled by the even-odd rule.
    Polygon(Vec<Point>),
    Union(Vec<Shape>),
    Intersection(Box<Shape>, Box<Shape>),
    Difference(Box<Shape>, Box<Shape>),
    Text(TextBlock),
}

impl Shape {
    fn contains(&self, x: f32, y: f32) -> bool {
        match self {
            Shape::Ellipse(cx, cy, rx, ry) => {
                ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2) <= 1.0
            }
            Shape::Rect(x0, y0, x1, y1) => x >= *x0 && x < *x1 && y >= *y0 && y < *y1,
            Shape::Capsule(a, b, r) => {
                let (dx, dy) = (b.0 - a.0, b.1 - a.1);
                let len2 = (dx * dx + dy * dy).max(f32::EPSILON);
                let t = (((x - a.0) * dx + (y - a.1) * dy) / len2).clamp(0.0, 1.0);
                (x - a.0 - t * dx).powi(2) + (y - a.1 - t * dy).powi(2) <= r * r
            }
            Shape::Polygon(points) => {
                let mut inside = false;
                for (i, &(xi, yi)) in points.iter().enumerate() {
                    let (xj, yj) = points[(i + points.len() - 1) % points.len()];
                    if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                        inside = !inside;
                    }
                }
                inside
            }
            Shape::Union(shapes) => shapes.iter().any(|s| s.contains(x, y)),
            Shape::Intersection(a, b) => a.contains(x, y) && b.contains(x, y),
            Shape::Difference(a, b) => a.contains(x, y) && !b.contains(x, y),
            Shape::Text(text) => text.contains(x, y),
        }
    }

    fn bounds(&self) -> Bounds {
        let merge = |a: Bounds, b: Bounds| (a.0.min(b.0), a.1.min(b.1), a.2.max(b.2), a.3.max(b.3));
        let empty = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        match self {
            Shape::Ellipse(cx, cy, rx, ry) => (cx - rx, cy - ry, cx + rx, cy + ry),
            Shape::Rect(x0, y0, x1, y1) => (*x0, *y0, *x1, *y1),
            Shape::Capsule(a, b, r) => merge(
                (a.0 - r, a.1 - r, a.0 + r, a.1 + r),
                (b.0 - r, b.1 - r, b.0 + r, b.1 + r),
            ),
            Shape::Polygon(points) => points
                .iter()
                .fold(empty, |b, p| merge(b, (p.0, p.1, p.0, p.1))),
            Shape::Union(shapes) => shapes.iter().map(Shape::bounds).fold(empty, merge),
            Shape::Intersection(a, b) => {
                let (a, b) = (a.bounds(), b.bounds());
                (a.0.max(b.0), a.1.max(b.1), a.2.min(b.2), a.3.min(b.3))
            }
            Shape::Difference(a, _) => a.bounds(),
            Shape::Text(text) => text.bounds,
        }
    }
}

/// Premultiplied RGBA pixels in 0..=1, drawn on a 512-unit grid scaled to the image size.
struct Canvas {
    size: u32,
    scale: f32,
    pixels: Vec<[f32; 4]>,
}

impl Canvas {
    fn new(size: u32) -> Self {
        let pixels = vec![[0.0; 4]; (size * size) as usize];
        Canvas {
            size,
            scale: size as f32 / 512.0,
            pixels,
        }
    }

    /// Paints `shape` in the opaque `colour` over what is there, with 4×4 samples per pixel.
    fn fill(&mut self, shape: &Shape, colour: [u8; 3]) {
        const N: u32 = 4;
        let (x0, y0, x1, y1) = shape.bounds();
        let to_px = |v: f32| ((v * self.scale).max(0.0) as u32).min(self.size);
        let src = colour.map(|c| f32::from(c) / 255.0);
        for py in to_px(y0)..to_px(y1 + 2.0) {
            for px in to_px(x0)..to_px(x1 + 2.0) {
                let sample = |i: u32, p: u32| (p as f32 + (i as f32 + 0.5) / N as f32) / self.scale;
                let hits = (0..N * N)
                    .filter(|i| shape.contains(sample(i % N, px), sample(i / N, py)))
                    .count();
                let a = hits as f32 / (N * N) as f32;
                let dst = &mut self.pixels[(py * self.size + px) as usize];
                for i in 0..3 {
                    dst[i] = src[i] * a + dst[i] * (1.0 - a);
                }
                dst[3] = a + dst[3] * (1.0 - a);
            }
        }
    }

    fn encode_png(&self) -> Vec<u8> {
        let mut rgba = Vec::with_capacity(self.pixels.len() * 4);
        for &[r, g, b, a] in &self.pixels {
            let straight = |c: f32| {
                if a > 0.0 {
                    (c / a * 255.0).round().clamp(0.0, 255.0) as u8
                } else {
                    0
                }
            };
            rgba.extend_from_slice(&[
                straight(r),
                straight(g),
                straight(b),
                (a * 255.0).round() as u8,
            ]);
        }
        let mut out = Vec::new();
        PngEncoder::new_with_quality(&mut out, CompressionType::Best, FilterType::Adaptive)
            .write_image(&rgba, self.size, self.size, image::ExtendedColorType::Rgba8)
            .expect("encoding a PNG into memory cannot fail");
        out
    }
}

/// Lines of capitals in the bitmap font, placed and scaled to fit a box.
/// A line of glyphs: base character and accent.
type Line = Vec<(u8, Accent)>;

struct TextBlock {
    lines: Vec<Line>,
    /// Top-left corner of each line's glyph row 0, in design units.
    origins: Vec<(f32, f32)>,
    /// Design units per font pixel.
    unit: f32,
    bounds: Bounds,
}

/// Font cell: 5×7 glyph, one column of spacing; a line is 12 rows: 3 for accents above,
/// 7 for the letter, 2 for a cedilla below.
const ADVANCE: f32 = 6.0;
const LINE_ROWS: f32 = 12.0;
const ACCENT_ROWS: f32 = 3.0;

impl TextBlock {
    /// Wraps `title` on at most three lines, choosing the wrap that allows the largest letters.
    fn fit(title: &str, area: Bounds) -> TextBlock {
        let (ax0, ay0, ax1, ay1) = area;
        let (w, h) = (ax1 - ax0, ay1 - ay0);
        let words: Vec<Line> = title
            .split_whitespace()
            .map(|w| w.chars().flat_map(glyph_for).collect())
            .collect();
        let longest = words.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let total = words.iter().map(|w| w.len() + 1).sum::<usize>().max(1);
        let mut best: Option<(f32, Vec<Line>)> = None;
        for width in longest..=total {
            let lines = wrap(&words, width);
            if lines.len() > 3 {
                continue;
            }
            let widest = lines.iter().map(Vec::len).max().unwrap_or(1) as f32;
            let unit = (w / (widest * ADVANCE - 1.0)).min(h / (lines.len() as f32 * LINE_ROWS));
            if best.as_ref().is_none_or(|(u, _)| unit > *u) {
                best = Some((unit, lines));
            }
        }
        // Every title fits on one line at worst, so `best` is empty only for an empty title.
        let (unit, lines) = best.unwrap_or((1.0, Vec::new()));
        let block_h = lines.len() as f32 * LINE_ROWS * unit;
        let top = ay0 + (h - block_h) / 2.0;
        let origins = lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let line_w = (line.len() as f32 * ADVANCE - 1.0) * unit;
                (
                    ax0 + (w - line_w) / 2.0,
                    top + (i as f32 * LINE_ROWS + ACCENT_ROWS) * unit,
                )
            })
            .collect();
        TextBlock {
            lines,
            origins,
            unit,
            bounds: area,
        }
    }

    fn contains(&self, x: f32, y: f32) -> bool {
        // Font pixels are grown by BOLDEN on each side, for thicker, easier to read strokes.
        const BOLDEN: f32 = 0.2;
        let offsets = [
            (-BOLDEN, -BOLDEN),
            (BOLDEN, -BOLDEN),
            (-BOLDEN, BOLDEN),
            (BOLDEN, BOLDEN),
        ];
        self.lines
            .iter()
            .zip(&self.origins)
            .any(|(line, (ox, oy))| {
                let (fx, fy) = ((x - ox) / self.unit, (y - oy) / self.unit);
                offsets
                    .iter()
                    .any(|(dx, dy)| font_pixel(line, fx + dx, fy + dy))
            })
    }
}

/// Is the point (`fx`, `fy`), in font pixels from a line's origin, on a letter of `line`?
fn font_pixel(line: &[(u8, Accent)], fx: f32, fy: f32) -> bool {
    let (col, row) = (fx.floor(), fy.floor());
    if col < 0.0 || !(-ACCENT_ROWS..LINE_ROWS - ACCENT_ROWS).contains(&row) {
        return false;
    }
    let (index, col) = ((col / ADVANCE) as usize, (col % ADVANCE) as i32);
    line.get(index)
        .is_some_and(|&(c, accent)| col < 5 && pixel(c, accent, col, row as i32))
}

/// Greedy word wrap to lines of at most `width` glyphs (a longer word gets a line of its own).
fn wrap(words: &[Line], width: usize) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for word in words {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + word.len() <= width => {
                line.push((b' ', Accent::None));
                line.extend_from_slice(word);
            }
            _ => lines.push(word.clone()),
        }
    }
    lines
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accent {
    None,
    Acute,
    Grave,
    Circumflex,
    Diaeresis,
    Cedilla,
}

/// The glyphs for one character: capitals, with French accents drawn over the base letter.
fn glyph_for(c: char) -> Vec<(u8, Accent)> {
    c.to_uppercase()
        .map(|c| {
            let (base, accent) = match c {
                'É' => ('E', Accent::Acute),
                'È' | 'À' | 'Ù' => (unaccented(c), Accent::Grave),
                'Ê' | 'Â' | 'Î' | 'Ô' | 'Û' => (unaccented(c), Accent::Circumflex),
                'Ë' | 'Ï' | 'Ü' | 'Ÿ' | 'Ä' | 'Ö' => (unaccented(c), Accent::Diaeresis),
                'Ç' => ('C', Accent::Cedilla),
                '’' => ('\'', Accent::None),
                c if c.is_ascii() && glyph(c as u8).is_some() => (c, Accent::None),
                _ => ('?', Accent::None),
            };
            (base as u8, accent)
        })
        .collect()
}

fn unaccented(c: char) -> char {
    match c {
        'È' | 'Ê' | 'Ë' => 'E',
        'À' | 'Â' | 'Ä' => 'A',
        'Î' | 'Ï' => 'I',
        'Ô' | 'Ö' => 'O',
        'Ù' | 'Û' | 'Ü' => 'U',
        _ => 'Y',
    }
}

/// Is font pixel (`col`, `row`) set? Rows 0..7 are the letter, negative rows the accent above,
/// rows 7..9 the cedilla.
fn pixel(c: u8, accent: Accent, col: i32, row: i32) -> bool {
    match row {
        0..7 => glyph(c).is_some_and(|g| g[row as usize] & (0b10000 >> col) != 0),
        _ => {
            let marks: &[(i32, i32)] = match accent {
                Accent::None => &[],
                Accent::Acute => &[(3, -3), (2, -2)],
                Accent::Grave => &[(1, -3), (2, -2)],
                Accent::Circumflex => &[(2, -3), (1, -2), (3, -2)],
                Accent::Diaeresis => &[(1, -2), (3, -2)],
                Accent::Cedilla => &[(2, 7), (1, 8), (2, 8)],
            };
            marks.contains(&(col, row))
        }
    }
}

/// 5×7 capitals, digits and a little punctuation; each row's five low bits, leftmost first.
fn glyph(c: u8) -> Option<[u8; 7]> {
    Some(match c {
        b'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        b'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        b'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        b'D' => [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
        b'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        b'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        b'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        b'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        b'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        b'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        b'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        b'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        b'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        b'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        b'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        b'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        b'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        b'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        b'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        b'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        b'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        b'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        b'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        b'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        b'Y' => [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04],
        b'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        b'0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        b'1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        b'2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        b'3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        b'4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        b'5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        b'6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        b'7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        b'8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        b'9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        b' ' => [0; 7],
        b'\'' => [0x04, 0x04, 0x08, 0, 0, 0, 0],
        b'-' => [0, 0, 0, 0x0E, 0, 0, 0],
        b'.' => [0, 0, 0, 0, 0, 0x0C, 0x0C],
        b',' => [0, 0, 0, 0, 0x0C, 0x04, 0x08],
        b'!' => [0x04, 0x04, 0x04, 0x04, 0x04, 0, 0x04],
        b'?' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0, 0x04],
        b'/' => [0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10],
        b'&' => [0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accented_letters_keep_their_accent() {
        assert_eq!(glyph_for('é'), vec![(b'E', Accent::Acute)]);
        assert_eq!(glyph_for('Ç'), vec![(b'C', Accent::Cedilla)]);
        assert_eq!(
            glyph_for('ß'),
            vec![(b'S', Accent::None), (b'S', Accent::None)]
        );
        assert_eq!(glyph_for('€'), vec![(b'?', Accent::None)]);
    }

    #[test]
    fn the_safety_title_wraps_on_three_lines() {
        let block = TextBlock::fit(
            "Sécurité et hygiène au travail",
            (40.0, 290.0, 472.0, 470.0),
        );
        let lines: Vec<String> = block
            .lines
            .iter()
            .map(|l| l.iter().map(|g| g.0 as char).collect())
            .collect();
        assert_eq!(lines, ["SECURITE", "ET HYGIENE", "AU TRAVAIL"]);
    }

    #[test]
    fn image_is_transparent_outside_and_opaque_inside() {
        let spec = BadgeImageSpec {
            title: "Test".into(),
            pictogram: Pictogram::Star,
            colour: [200, 30, 30],
        };
        let png = draw_badge(&spec, 128);
        let img = image::load_from_memory(&png).unwrap().to_rgba8();
        assert_eq!(img.dimensions(), (128, 128));
        assert_eq!(img.get_pixel(0, 0)[3], 0, "corner is transparent");
        assert_eq!(img.get_pixel(64, 5)[3], 255, "medal is opaque");
    }
}
