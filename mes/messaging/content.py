"""Message bodies: HTML cut down to a safe subset (nh3, the Ammonia sanitiser), or plain text.

No script, style, form, image or remote resource survives: a message never makes the browser
fetch anything (a read receipt by pixel would leak that the patient opened it).
"""

from __future__ import annotations

import re

import nh3

SAFE_TAGS = frozenset(
    {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "blockquote", "pre", "code"}
    | {"h1", "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "hr", "span", "div"}
    | {"a"}
)
SAFE_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan"}}
SAFE_URL_SCHEMES = frozenset({"https", "mailto"})

# C0 controls except tab, line feed, carriage return; and DEL. NUL is one of them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(text: str) -> bool:
    return bool(_CONTROL.search(text))


def sanitise_html(html: str) -> str:
    """The HTML a message may show: a fixed set of tags, https/mailto links opened safely."""
    return nh3.clean(
        html,
        tags=set(SAFE_TAGS),
        attributes={k: set(v) for k, v in SAFE_ATTRIBUTES.items()},
        url_schemes=set(SAFE_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def text_of_html(html: str) -> str:
    """A plain-text rendering of a sanitised body (for previews and outbound text parts)."""
    no_tags = nh3.clean(re.sub(r"(?i)<br\s*/?>|</p>|</li>|</div>", "\n", html), tags=set())
    return re.sub(r"\n{3,}", "\n\n", _unescape(no_tags)).strip()


def _unescape(text: str) -> str:
    import html as html_lib

    return html_lib.unescape(text)


def preview(body_text: str, body_html: str, length: int = 120) -> str:
    text = body_text or text_of_html(body_html)
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"
