//! Human free text the API accepts (sign-in and account names, token and screen names,
//! declaration reasons, and the text fields of feed records): one rule, checked before a
//! value reaches the sign-in limiter, the log or the audit. Control characters (Unicode
//! `Cc`: newlines, escapes that drive a terminal, NUL), the line and paragraph separators
//! (U+2028, U+2029) and Unicode's bidirectional controls (U+061C, U+200E, U+200F,
//! U+202A–U+202E, U+2066–U+2069) are refused: the first forge lines in a text log or colour
//! a terminal, the last make text read differently from what it holds. Whatever
//! user-supplied text is logged is also written with `Debug` formatting (`?value`), which
//! escapes.

/// A refused value: which field, and the first character that is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {field} contains the character U+{code:04X}, which is not allowed: names and free text may not hold control characters (such as a newline, an escape or NUL) or bidirectional overrides")]
pub struct TextError {
    pub field: &'static str,
    pub code: u32,
}

/// Whether `c` is refused in names and free text.
pub fn refused(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `Ok` unless `value` holds a refused character; the error names `field`.
pub fn check(field: &'static str, value: &str) -> Result<(), TextError> {
    match value.chars().find(|c| refused(*c)) {
        Some(c) => Err(TextError {
            field,
            code: u32::from(c),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidirectional_characters_are_refused_and_named() {
        for bad in [
            "a\nb",
            "a\rb",
            "a\tb",
            "\u{1b}[31m",
            "a\u{0}",
            "\u{7f}",
            "\u{85}",
            "\u{200e}",
            "\u{200f}",
            "\u{202a}",
            "\u{202e}",
            "\u{2066}",
            "\u{2069}",
            "\u{061c}",
            "a\u{2028}b",
            "a\u{2029}b",
        ] {
            assert!(check("name", bad).is_err(), "{bad:?}");
        }
        let e = check("reason", "CT down \u{202e}").expect_err("refused");
        assert_eq!(
            e,
            TextError {
                field: "reason",
                code: 0x202e
            }
        );
        assert!(
            e.to_string()
                .starts_with("the reason contains the character U+202E"),
            "{e}"
        );
        for good in [
            "sam",
            "Sam O'Neill",
            "Zoë Ĳssel",
            "CT down – ward 7 (B)",
            "日本",
            "",
        ] {
            assert_eq!(check("name", good), Ok(()), "{good:?}");
        }
    }
}
