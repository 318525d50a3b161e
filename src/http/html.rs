//! Small, accessible HTML pages for browsers (issuer profile, badge class, credential). Plain,
//! large, high-contrast, French first; no JavaScript. Every dynamic value is escaped.

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A tiny, safe subset of Markdown: paragraphs and `-` lists (nested by indentation are flattened).
pub fn markdown(md: &str) -> String {
    let mut out = String::new();
    let mut in_list = false;
    let mut para = Vec::new();
    let flush = |para: &mut Vec<String>, out: &mut String| {
        if !para.is_empty() {
            out.push_str(&format!("<p>{}</p>", para.join(" ")));
            para.clear();
        }
    };
    for line in md.lines() {
        let t = line.trim();
        if let Some(item) = t.strip_prefix("- ") {
            flush(&mut para, &mut out);
            if !in_list {
                out.push_str("<ul>");
                in_list = true;
            }
            out.push_str(&format!("<li>{}</li>", escape(item)));
        } else if t.is_empty() {
            flush(&mut para, &mut out);
            if in_list {
                out.push_str("</ul>");
                in_list = false;
            }
        } else if in_list {
            // continuation of the previous item
            if out.ends_with("</li>") {
                out.truncate(out.len() - "</li>".len());
                out.push_str(&format!(" {}</li>", escape(t)));
            }
        } else {
            para.push(escape(t));
        }
    }
    flush(&mut para, &mut out);
    if in_list {
        out.push_str("</ul>");
    }
    out
}

pub fn page(lang: &str, title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; font-size: 1.25rem; line-height: 1.6; max-width: 44rem; margin: 0 auto; padding: 1rem; color: #111; background: #fff; }}
h1 {{ font-size: 2rem; }} img {{ max-width: 16rem; height: auto; }}
a {{ color: #0645ad; }} .note {{ color: #333; font-size: 1rem; }}
</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"#,
        title = escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_renders_lists() {
        assert_eq!(
            escape("<a href=\"x\">'&'"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;"
        );
        let html = markdown("Intro <b>\n\n- one\n  more\n- two\n\nEnd");
        assert_eq!(
            html,
            "<p>Intro &lt;b&gt;</p><ul><li>one more</li><li>two</li></ul><p>End</p>"
        );
    }
}
