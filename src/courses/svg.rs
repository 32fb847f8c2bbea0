//! SVG images of course packages, judged by an allowlist: the file is parsed
//! as XML and every element and attribute must be one a drawing needs. No
//! script, no event handler (`on…`), no `foreignObject`, no element of
//! another namespace, no link but to `#…` inside the file, no `url(…)` but
//! `url(#…)`, no DOCTYPE (and so no entities of the file's own). An SVG that
//! passes draws and does nothing else, whether shown in a lesson or opened
//! on its own; the media answer adds a `sandbox` CSP all the same.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

const ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "title",
    "desc",
    "defs",
    "use",
    "symbol",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "pattern",
    "marker",
    "style",
];

const ATTRIBUTES: &[&str] = &[
    "id",
    "class",
    "style",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "fx",
    "fy",
    "dx",
    "dy",
    "width",
    "height",
    "d",
    "points",
    "viewBox",
    "preserveAspectRatio",
    "version",
    "baseProfile",
    "transform",
    "fill",
    "fill-opacity",
    "fill-rule",
    "stroke",
    "stroke-width",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-opacity",
    "stroke-miterlimit",
    "opacity",
    "font-size",
    "font-family",
    "font-weight",
    "font-style",
    "text-anchor",
    "dominant-baseline",
    "alignment-baseline",
    "letter-spacing",
    "word-spacing",
    "text-decoration",
    "rotate",
    "textLength",
    "lengthAdjust",
    "offset",
    "stop-color",
    "stop-opacity",
    "gradientUnits",
    "gradientTransform",
    "spreadMethod",
    "patternUnits",
    "patternContentUnits",
    "patternTransform",
    "clip-path",
    "clip-rule",
    "clipPathUnits",
    "mask",
    "maskUnits",
    "maskContentUnits",
    "markerWidth",
    "markerHeight",
    "markerUnits",
    "refX",
    "refY",
    "orient",
    "marker-start",
    "marker-mid",
    "marker-end",
    "visibility",
    "display",
    "color",
    "vector-effect",
    "paint-order",
    "shape-rendering",
    "text-rendering",
    "role",
    "aria-label",
    "aria-hidden",
    "focusable",
    "href",
    "xmlns",
    "xmlns:xlink",
    "xlink:href",
    "xml:space",
    "xml:lang",
    "lang",
];

const SVG_NS: &str = "http://www.w3.org/2000/svg";
const XLINK_NS: &str = "http://www.w3.org/1999/xlink";

/// Why the SVG is refused, if it is.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let mut reader = Reader::from_reader(bytes);
    let mut depth = 0usize;
    let mut in_style = false;
    let mut seen_root = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed XML: {e}"))?;
        match event {
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) => {}
            Event::DocType(_) => return Err("a DOCTYPE is not allowed".into()),
            Event::PI(_) => return Err("processing instructions are not allowed".into()),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = element(e, depth == 0)?;
                if depth == 0 {
                    if seen_root {
                        return Err("more than one root element".into());
                    }
                    seen_root = true;
                }
                attributes(e, reader.decoder())?;
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                    in_style = name == "style";
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                in_style = false;
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|_| "not UTF-8 text".to_string())?;
                if in_style {
                    css(&text)?;
                }
            }
            Event::CData(t) => {
                let text = String::from_utf8_lossy(&t);
                if in_style {
                    css(&text)?;
                }
            }
            Event::GeneralRef(r) => {
                let known = r.is_char_ref()
                    || matches!(
                        &*r.decode().unwrap_or_default(),
                        "amp" | "lt" | "gt" | "quot" | "apos"
                    );
                if !known || in_style {
                    return Err("entity references are not allowed here".into());
                }
            }
        }
    }
    if !seen_root {
        return Err("no <svg> element".into());
    }
    Ok(())
}

/// The element's name, if it is allowed (`svg` alone at the root).
fn element(e: &BytesStart<'_>, root: bool) -> Result<String, String> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    if name.contains(':') {
        return Err(format!(
            "<{name}>: elements of other namespaces are not allowed"
        ));
    }
    if root && name != "svg" {
        return Err(format!("<{name}>: the root element must be <svg>"));
    }
    if !ELEMENTS.contains(&name.as_str()) {
        return Err(format!(
            "<{name}> is not allowed in an image (scripts, foreignObject, links, media and HTML never are)"
        ));
    }
    Ok(name)
}

/// Every attribute is one a drawing needs, with a harmless value.
fn attributes(e: &BytesStart<'_>, decoder: quick_xml::encoding::Decoder) -> Result<(), String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("a malformed attribute: {err}"))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        if !ATTRIBUTES.contains(&key.as_str()) {
            return Err(format!(
                "attribute {key:?} is not allowed (event handlers and foreign attributes never are)"
            ));
        }
        let value = a
            .decode_and_unescape_value(decoder)
            .map_err(|_| format!("attribute {key}: an unknown entity"))?;
        let squeezed: String = value
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .collect::<String>()
            .to_ascii_lowercase();
        match key.as_str() {
            "xmlns" if value != SVG_NS => return Err(format!("xmlns must be {SVG_NS}")),
            "xmlns:xlink" if value != XLINK_NS => {
                return Err(format!("xmlns:xlink must be {XLINK_NS}"));
            }
            "href" | "xlink:href" if !value.starts_with('#') => {
                return Err(format!("{key} may only point inside the image (#id)"));
            }
            "style" => css(&value)?,
            _ => {}
        }
        if squeezed.contains("javascript:") || squeezed.contains("data:") {
            return Err(format!(
                "attribute {key}: script or data URLs are not allowed"
            ));
        }
        if !urls_are_local(&squeezed) {
            return Err(format!(
                "attribute {key}: url(…) may only point inside the image (#id)"
            ));
        }
    }
    Ok(())
}

/// Every `url(` is followed by `#`, optionally quoted.
fn urls_are_local(squeezed: &str) -> bool {
    squeezed.match_indices("url(").all(|(i, _)| {
        let rest = squeezed[i + 4..].trim_start_matches(['"', '\'']);
        rest.starts_with('#')
    })
}

/// CSS of a `style` element or attribute: no imports, no escapes that could
/// hide a word, no script, no URL but `url(#…)`.
fn css(text: &str) -> Result<(), String> {
    let squeezed: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    let bad = [
        "@import",
        "javascript",
        "expression(",
        "behavior",
        "-moz-binding",
        "\\",
        "data:",
    ];
    if let Some(b) = bad.iter().find(|b| squeezed.contains(*b)) {
        return Err(format!("style: {b:?} is not allowed"));
    }
    if !urls_are_local(&squeezed) {
        return Err("style: url(…) may only point inside the image (#id)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn drawings_pass_and_active_content_does_not() {
        let ok = r##"<?xml version="1.0"?><!-- a dot --><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10"><defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs><circle cx="5" cy="5" r="4" fill="url(#g)"/><use xlink:href="#g"/><text x="1" y="9">A &amp; B &#20013;</text><style>circle{fill:#2a7}</style></svg>"##;
        assert_eq!(check(ok.as_bytes()), Ok(()));
        let bad = [
            r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#,
            "<svg xmlns=\"http://www.w3.org/2000/svg\"\r\nonload=\"alert(1)\"/>",
            r#"<svg xmlns="http://www.w3.org/2000/svg"><x:script xmlns:x="http://www.w3.org/2000/svg">alert(1)</x:script></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div/></foreignObject></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><a href="&#106;avascript:alert(1)"><rect/></a></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><use href="&#106;avascript:alert(1)"/></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><use href="https://evil.example/x.svg#a"/></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://evil.example/)"/></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/x.css)</style></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><style>rect{background:url(javascript:alert(1))}</style></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url( 'https://x' )"/></svg>"#,
            r#"<!DOCTYPE svg [<!ENTITY x "javascript:">]><svg xmlns="http://www.w3.org/2000/svg"/>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:h="http://www.w3.org/1999/xhtml"><h:iframe/></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><image href="x.png"/></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><animate attributeName="href" to="javascript:alert(1)"/></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="onmouseover" to="alert(1)"/></svg>"#,
            r#"<html><script>alert(1)</script></html>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><rect"#,
            r#"<svg xmlns="http://evil.example/"/>"#,
        ];
        for b in bad {
            assert!(check(b.as_bytes()).is_err(), "passed: {b}");
        }
    }
}
