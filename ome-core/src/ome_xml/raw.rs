//! A small owned XML tree ([`RawElement`]) and the hardened reader that builds it.
//!
//! The reader accepts no DTD: a `<!DOCTYPE` is refused before anything in it is read, so
//! there is no entity expansion (billion laughs) and no external entity (XXE). The only
//! references resolved are the five predefined entities and numeric character references
//! (XML 1.0 §4.6, §4.1). Size, depth, element count and attribute length are bounded by
//! [`XmlLimits`].

use quick_xml::Reader;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};

use crate::error::{Error, Result};
use crate::location::Location;

/// Resource limits for reading OME-XML. The defaults are safe for untrusted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// Largest document accepted, in bytes (default 64 MiB).
    pub max_bytes: usize,
    /// Deepest element nesting accepted; the root element is depth 1 (default 64).
    pub max_depth: usize,
    /// Most elements accepted in one document (default 1 000 000).
    pub max_elements: usize,
    /// Longest attribute value accepted, in bytes as written (default 1 MiB).
    pub max_attribute_len: usize,
}

impl Default for XmlLimits {
    fn default() -> Self {
        XmlLimits {
            max_bytes: 64 << 20,
            max_depth: 64,
            max_elements: 1_000_000,
            max_attribute_len: 1 << 20,
        }
    }
}

/// An element kept verbatim: its qualified name (namespace prefix preserved), its
/// attributes in document order (namespace declarations included) and its content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawElement {
    /// Qualified name as written, e.g. `ROI` or `ome:ROI`.
    pub name: String,
    /// `(qualified name, unescaped value)` pairs in document order.
    pub attributes: Vec<(String, String)>,
    /// Mixed content in document order: elements, text (whitespace included), CDATA,
    /// comments and processing instructions.
    pub children: Vec<RawNode>,
}

/// One node of a [`RawElement`]'s content.
#[derive(Debug, Clone, PartialEq)]
pub enum RawNode {
    /// A child element.
    Element(RawElement),
    /// Character data, unescaped, line ends normalised to `\n` (XML 1.0 §2.11).
    Text(String),
    /// A CDATA section's content.
    CData(String),
    /// A comment's content (between `<!--` and `-->`).
    Comment(String),
    /// A processing instruction's content (between `<?` and `?>`).
    ProcessingInstruction(String),
}

impl RawElement {
    /// A new element with no attributes or content.
    pub fn new(name: impl Into<String>) -> Self {
        RawElement {
            name: name.into(),
            ..RawElement::default()
        }
    }

    /// The name without its namespace prefix (`ROI` for `ome:ROI`).
    pub fn local_name(&self) -> &str {
        local_name(&self.name)
    }

    /// The namespace prefix, if any (`ome` for `ome:ROI`).
    pub fn prefix(&self) -> Option<&str> {
        self.name.split_once(':').map(|(p, _)| p)
    }

    /// The value of the attribute with this qualified name.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &RawElement> {
        self.children.iter().filter_map(|n| match n {
            RawNode::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The concatenated text and CDATA directly inside this element.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            if let RawNode::Text(t) | RawNode::CData(t) = n {
                s.push_str(t);
            }
        }
        s
    }
}

/// Whether `s` is an XML 1.0 `Name` (section 2.3): a name-start character (a letter, `_`,
/// `:` or a non-ASCII character) then name characters (also digits, `-`, `.`). Non-ASCII
/// characters are accepted as a whole, a superset of the production's ranges.
pub(crate) fn is_xml_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':' || !c.is_ascii())
        && chars.all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.') || !c.is_ascii()
        })
}

/// The part of a qualified name after the prefix.
pub(crate) fn local_name(qname: &str) -> &str {
    qname.split_once(':').map_or(qname, |(_, l)| l)
}

/// An element path being built while reading: `/OME/Image[0]/Pixels`.
struct Frame {
    element: RawElement,
    path: String,
    /// How many children of each local name were seen, for `Name[i]` indices.
    counts: Vec<(String, usize)>,
}

fn xml_loc(path: &str) -> Location {
    Location::Xml {
        file: None,
        path: path.to_string(),
    }
}

/// Reads `xml` into a tree under `limits`.
///
/// # Errors
///
/// [`crate::ErrorKind::LimitsExceeded`] when a limit is hit, [`crate::ErrorKind::Unsupported`]
/// for a DOCTYPE, [`crate::ErrorKind::Format`] for malformed XML; each names the element path.
pub(crate) fn read_tree(xml: &str, limits: &XmlLimits) -> Result<RawElement> {
    if xml.len() > limits.max_bytes {
        return Err(Error::limits(
            xml_loc("/"),
            format!(
                "expected an OME-XML document of at most {} bytes, found {} bytes",
                limits.max_bytes,
                xml.len()
            ),
        ));
    }
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    let mut reader = Reader::from_str(xml);
    {
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<RawElement> = None;
    let mut elements = 0usize;

    loop {
        let current_path = stack.last().map_or("/", |f| f.path.as_str()).to_string();
        let event = reader.read_event().map_err(|e| {
            Error::format(
                xml_loc(&current_path),
                format!(
                    "expected well-formed XML, found an error at byte {}: {e}",
                    reader.error_position()
                ),
            )
        })?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let name = start.name().as_ref().to_string();
                return Err(Error::format(
                    xml_loc("/"),
                    format!("expected one root element, found a second one <{name}>"),
                ));
            }
            ev @ (Event::Start(_) | Event::Empty(_)) => {
                let is_empty = matches!(ev, Event::Empty(_));
                let (Event::Start(start) | Event::Empty(start)) = ev else {
                    continue;
                };
                elements += 1;
                let name = start.name().as_ref().to_string();
                if !is_xml_name(&name) {
                    let at = stack.last().map_or("/", |f| f.path.as_str()).to_string();
                    return Err(Error::format(
                        xml_loc(&at),
                        format!(
                            "expected well-formed XML, found an element named {name:?} (not an XML Name)"
                        ),
                    ));
                }
                let local = local_name(&name).to_string();
                let path = match stack.last_mut() {
                    None => format!("/{local}"),
                    Some(parent) => {
                        let idx = match parent.counts.iter_mut().find(|(n, _)| *n == local) {
                            Some((_, c)) => {
                                *c += 1;
                                *c - 1
                            }
                            None => {
                                parent.counts.push((local.clone(), 1));
                                0
                            }
                        };
                        format!("{}/{local}[{idx}]", parent.path)
                    }
                };
                if elements > limits.max_elements {
                    return Err(Error::limits(
                        xml_loc(&path),
                        format!(
                            "expected at most {} elements, found more",
                            limits.max_elements
                        ),
                    ));
                }
                if stack.len() + 1 > limits.max_depth {
                    return Err(Error::limits(
                        xml_loc(&path),
                        format!(
                            "expected elements nested at most {} deep, found deeper nesting",
                            limits.max_depth
                        ),
                    ));
                }
                let element = RawElement {
                    name,
                    attributes: read_attributes(&start, &path, limits)?,
                    children: Vec::new(),
                };
                if is_empty {
                    match stack.last_mut() {
                        Some(parent) => parent.element.children.push(RawNode::Element(element)),
                        None => root = Some(element),
                    }
                } else {
                    stack.push(Frame {
                        element,
                        path,
                        counts: Vec::new(),
                    });
                }
            }
            Event::End(_) => {
                // quick-xml checks that the end name matches (check_end_names).
                let Some(frame) = stack.pop() else {
                    return Err(Error::format(
                        xml_loc("/"),
                        "expected an element to close, found an unmatched end tag",
                    ));
                };
                match stack.last_mut() {
                    Some(parent) => parent
                        .element
                        .children
                        .push(RawNode::Element(frame.element)),
                    None => root = Some(frame.element),
                }
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                push_text(&mut stack, &content, &current_path)?;
            }
            Event::GeneralRef(r) => {
                let resolved: String = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => match predefined_entity(&r) {
                        Some(s) => s.to_string(),
                        None => {
                            return Err(Error::format(
                                xml_loc(&current_path),
                                format!(
                                    "expected a predefined entity (amp, lt, gt, quot, apos) or a \
                                     character reference, found \"&{};\"",
                                    &*r
                                ),
                            ));
                        }
                    },
                    Err(e) => {
                        return Err(Error::format(
                            xml_loc(&current_path),
                            format!(
                                "expected a valid character reference, found \"&{};\": {e}",
                                &*r
                            ),
                        ));
                    }
                };
                push_text(&mut stack, &resolved, &current_path)?;
            }
            Event::CData(data) => {
                let content = data.xml10_content().into_owned();
                if let Some(f) = stack.last_mut() {
                    f.element.children.push(RawNode::CData(content));
                } else {
                    return Err(outside_root(&current_path, "CDATA"));
                }
            }
            Event::Comment(c) => {
                if let Some(f) = stack.last_mut() {
                    f.element
                        .children
                        .push(RawNode::Comment(c.xml10_content().into_owned()));
                }
            }
            Event::PI(pi) => {
                if let Some(f) = stack.last_mut() {
                    let content = (*pi).to_string();
                    f.element
                        .children
                        .push(RawNode::ProcessingInstruction(content));
                }
            }
            Event::Decl(_) => {}
            Event::DocType(_) => {
                return Err(Error::unsupported(
                    xml_loc(&current_path),
                    "expected no document type declaration, found <!DOCTYPE ...> \
                     (DTDs and entity declarations are refused for safety)",
                ));
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(Error::format(
                        xml_loc(&open.path),
                        format!(
                            "expected </{}>, found the end of the document (truncated XML?)",
                            open.element.name
                        ),
                    ));
                }
                return root.ok_or_else(|| {
                    Error::format(xml_loc("/"), "expected a root element, found none")
                });
            }
        }
    }
}

fn outside_root(path: &str, what: &str) -> Error {
    Error::format(
        xml_loc(path),
        format!("expected only whitespace and comments outside the root element, found {what}"),
    )
}

fn push_text(stack: &mut [Frame], text: &str, path: &str) -> Result<()> {
    let Some(frame) = stack.last_mut() else {
        if text.trim().is_empty() {
            return Ok(());
        }
        return Err(outside_root(path, "text"));
    };
    // Text, entity references and character references arrive as separate events;
    // join them so that a round trip gives the same node list.
    if let Some(RawNode::Text(prev)) = frame.element.children.last_mut() {
        prev.push_str(text);
    } else {
        frame.element.children.push(RawNode::Text(text.to_string()));
    }
    Ok(())
}

fn predefined_entity(name: &str) -> Option<&'static str> {
    match name {
        "amp" => Some("&"),
        "lt" => Some("<"),
        "gt" => Some(">"),
        "quot" => Some("\""),
        "apos" => Some("'"),
        _ => None,
    }
}

fn read_attributes(
    start: &BytesStart<'_>,
    path: &str,
    limits: &XmlLimits,
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for attr in start.attributes().with_checks(true) {
        let attr: Attribute<'_> = attr.map_err(|e| {
            Error::format(
                xml_loc(path),
                format!("expected well-formed attributes, found an error: {e}"),
            )
        })?;
        let key = attr.key.as_ref().to_string();
        if !is_xml_name(&key) {
            return Err(Error::format(
                xml_loc(path),
                format!(
                    "expected well-formed XML, found an attribute named {key:?} (not an XML Name)"
                ),
            ));
        }
        if attr.value.len() > limits.max_attribute_len {
            return Err(Error::limits(
                xml_loc(&format!("{path}@{key}")),
                format!(
                    "expected an attribute value of at most {} bytes, found {} bytes",
                    limits.max_attribute_len,
                    attr.value.len()
                ),
            ));
        }
        // Attribute-value normalisation (XML 1.0 §3.3.3); only predefined entities.
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| {
                Error::format(
                    xml_loc(&format!("{path}@{key}")),
                    format!(
                        "expected only predefined entities and character references, found an \
                         error: {e}"
                    ),
                )
            })?
            .into_owned();
        out.push((key, value));
    }
    Ok(out)
}

/// The 2016-06 OME namespace, which [`super::to_xml`] writes.
pub(crate) const OME_2016_06: &str = "http://www.openmicroscopy.org/Schemas/OME/2016-06";

/// Namespace declarations of the older OME schema family (OME, SPW, SA, ROI, BinaryFile
/// 2013-06 and 2015-01) are rebound to the single 2016-06 namespace on writing, the way
/// the 2016-06 schema merged them.
pub(crate) fn upgrade_namespace<'a>(key: &str, value: &'a str) -> &'a str {
    if key != "xmlns" && !key.starts_with("xmlns:") {
        return value;
    }
    let Some(rest) = value
        .trim()
        .strip_prefix("http://www.openmicroscopy.org/Schemas/")
    else {
        return value;
    };
    let Some((family, version)) = rest.split_once('/') else {
        return value;
    };
    let family_ok = matches!(family, "OME" | "SPW" | "SA" | "ROI" | "BinaryFile");
    let version_ok = matches!(version, "2013-06" | "2015-01" | "2016-06");
    if family_ok && version_ok {
        OME_2016_06
    } else {
        value
    }
}

/// Writes `element` verbatim (no added whitespace) into `out`, with older OME namespace
/// declarations rebound to 2016-06 (see [`upgrade_namespace`]).
pub(crate) fn write_raw(out: &mut String, element: &RawElement) {
    out.push('<');
    out.push_str(&element.name);
    for (k, v) in &element.attributes {
        write_attribute(out, k, upgrade_namespace(k, v));
    }
    if element.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for child in &element.children {
        match child {
            RawNode::Element(e) => write_raw(out, e),
            RawNode::Text(t) => escape_text(out, t),
            RawNode::CData(t) => {
                out.push_str("<![CDATA[");
                out.push_str(&clean_chars(t).replace("]]>", "]]]]><![CDATA[>"));
                out.push_str("]]>");
            }
            RawNode::Comment(t) => {
                out.push_str("<!--");
                out.push_str(&clean_chars(t).replace("--", "- -"));
                out.push_str("-->");
            }
            RawNode::ProcessingInstruction(t) => {
                out.push_str("<?");
                out.push_str(&clean_chars(t).replace("?>", "? >"));
                out.push_str("?>");
            }
        }
    }
    out.push_str("</");
    out.push_str(&element.name);
    out.push('>');
}

/// Characters XML 1.0 §2.2 does not allow, even as references.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn clean_chars(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().all(is_xml_char) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(
            s.chars()
                .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

/// Writes ` key="value"` with the value escaped so that attribute-value normalisation gives
/// it back unchanged (tabs and line ends as character references).
pub(crate) fn write_attribute(out: &mut String, key: &str, value: &str) {
    out.push(' ');
    out.push_str(key);
    out.push_str("=\"");
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes character data escaped (`\r` as a reference so line-end normalisation keeps it).
pub(crate) fn escape_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}
