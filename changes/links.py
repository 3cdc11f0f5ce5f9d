"""Link canonicalisation: make the same link look the same in every fetch.

Meta decorates its links with values that change on every render: redirect wrappers
(``l.facebook.com/l.php?u=...&h=<signed token>``), click-logging wrappers
(``/privacy/policy/logging/?...&redirect_uri=...``), signed CDN URLs (``oh=``, ``oe=``,
``_nc_*``) served from a different edge host each time, positional UI state (``back_id``)
and tracking parameters. :func:`canonical_url` strips all of that so that a diff of two
fetches shows only what Meta changed. :func:`link_identity` goes further, for comparing
links only: the page's language, referrer and tracking parameters, a trailing slash, a
fragment and the scheme do not make a link point elsewhere (lexicon
``link_identity.toml``). Pure functions; the only I/O is reading the package's lexicon.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from changes.lexicon import load

__all__ = [
    "DROP_PARAMS",
    "DROP_PARAM_PREFIXES",
    "canonical_url",
    "canonicalise_markdown",
    "link_identity",
]

#: Query parameters removed everywhere: tracking, signatures and positional UI state.
DROP_PARAMS: frozenset[str] = frozenset(
    {
        # Meta link-shim signature and signed CDN URLs
        "h",
        "oh",
        "oe",
        "ccb",
        "efg",
        "strext",
        "stp",
        # Meta tracking / click context
        "__tn__",
        "__xts__",
        "entry_point",
        "fbclid",
        "refsrc",
        "_rdr",
        "_rdc",
        "ref",
        "refid",
        "helpref",
        "hc_ref",
        "hc_location",
        "mibextid",
        "igshid",
        "igsh",
        "paipv",
        "eav",
        "acontext",
        "extid",
        "sfnsn",
        # the page's display language, echoed into its own links by some renders (FR history)
        "locale2",
        # privacy/policy/printable UI state: which anchor the "back" button returns to
        # (renumbered whenever a section is inserted) and a constant "entry=0"
        "back_id",
        "entry",
        # generic marketing trackers
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
    }
)

#: Query parameter prefixes removed everywhere (``_nc_ohc``, ``utm_source``, ``__cft__[0]``).
DROP_PARAM_PREFIXES: tuple[str, ...] = ("_nc_", "utm_", "__cft__", "__xts__")

# Host-specific volatile parameters (EUR-Lex: ``qid`` is a per-search timestamp).
_HOST_DROP_PARAMS: dict[str, frozenset[str]] = {
    "eur-lex.europa.eu": frozenset({"qid"}),
}

# Link shims: host -> the query parameter that holds the real destination.
_SHIM_HOSTS: dict[str, str] = {
    "l.facebook.com": "u",
    "lm.facebook.com": "u",
    "l.messenger.com": "u",
    "l.instagram.com": "u",
    "l.threads.net": "u",
    "l.threads.com": "u",
    "l.workplace.com": "u",
}
_SHIM_PATHS: frozenset[str] = frozenset({"", "/", "/l.php"})

# Paths on *.facebook.com that wrap a destination in a query parameter.
_FB_WRAPPER_PATHS: dict[str, str] = {
    "/flx/warn/": "u",
    "/flx/warn": "u",
    # click-logging wrapper of the privacy policy page
    "/privacy/policy/logging/": "redirect_uri",
    "/privacy/policy/logging": "redirect_uri",
}

# Signed CDN URLs: the query is a signature and the host names the edge that served it
# (``video-fra3-1.xx.fbcdn.net``, ``instagram.fcdg2-1.fna.fbcdn.net``); both rotate.
_CDN_SUFFIXES: tuple[str, ...] = (".fbcdn.net", ".cdninstagram.com", ".whatsapp.net")
_CDN_EDGE_SUFFIX = re.compile(r"-[a-z]{3,4}\d+-\d+$")  # "scontent-frt3-1" -> "scontent"
_CDN_EDGE_LABEL = re.compile(r"^f[a-z]{3,4}\d+-\d+$")  # "fcdg2-1" -> (dropped)

# A URL that was percent-encoded and then resolved as a relative path:
# ``https://mbasic.facebook.com/privacy/policy/printable/https%3A%2F%2Flm.facebook.com%2F...``
_EMBEDDED_URL = re.compile(r"/(https?(?::|%3A)(?:/|%2F){2}.*)$", re.IGNORECASE)

_MAX_UNWRAP = 5
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_DEFAULT_PORTS: dict[str, int] = {"http": 80, "https": 443}
_MARKDOWN_UNSAFE = str.maketrans({"(": "%28", ")": "%29", "[": "%5B", "]": "%5D"})

# Meta's own domains are HTTPS-only (HSTS); their pages link them as http:// or https://
# from one render to the next, so http:// is upgraded for them.
_HTTPS_DOMAINS: tuple[str, ...] = (
    "facebook.com",
    "fb.com",
    "fb.me",
    "fbcdn.net",
    "instagram.com",
    "cdninstagram.com",
    "messenger.com",
    "whatsapp.com",
    "whatsapp.net",
    "meta.com",
    "meta.ai",
    "oculus.com",
    "threads.net",
    "threads.com",
    "workplace.com",
)


def _in_domain(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _is_facebook_host(host: str) -> bool:
    return _in_domain(host, ("facebook.com",))


def _drop_param(name: str, host: str) -> bool:
    if name in DROP_PARAMS or name.startswith(DROP_PARAM_PREFIXES):
        return True
    return name in _HOST_DROP_PARAMS.get(host, frozenset())


def _unwrap(url: str) -> str | None:
    """Return the destination of a known redirect wrapper, or None if ``url`` is not one."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path
    embedded = _EMBEDDED_URL.search(path)
    if embedded and _is_facebook_host(host):
        inner = unquote(embedded.group(1))
        if parts.query:
            inner += ("&" if "?" in inner else "?") + parts.query
        return inner
    param: str | None = None
    if host in _SHIM_HOSTS and path in _SHIM_PATHS:
        param = _SHIM_HOSTS[host]
    elif _is_facebook_host(host):
        param = _FB_WRAPPER_PATHS.get(path)
    if param is None:
        return None
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == param and value.strip():
            return value.strip()
    return None


def _video_redirect(host: str, path: str, query: list[tuple[str, str]]) -> str | None:
    """``/video_redirect/?src=<signed CDN url>&id=N`` -> keep only the stable video id."""
    if not (_is_facebook_host(host) and path.rstrip("/") == "/video_redirect"):
        return None
    ids = [v for k, v in query if k == "id" and v]
    return urlencode([("id", ids[0])]) if ids else None


def _canonical_host(host: str) -> str:
    if not _is_cdn(host):
        return host
    labels = [_CDN_EDGE_SUFFIX.sub("", label) for label in host.split(".")]
    return ".".join(label for label in labels if not _CDN_EDGE_LABEL.match(label))


def _is_cdn(host: str) -> bool:
    return host.endswith(_CDN_SUFFIXES)


@lru_cache(maxsize=1 << 16)
def canonical_url(url: str, base: str | None = None) -> str:
    """Return the stable form of ``url`` (resolved against ``base`` when relative).

    Unwraps Meta redirect and logging wrappers, drops tracking, signature and positional
    parameters, strips the query of signed CDN URLs and the edge part of their host, sorts
    the remaining parameters and lowercases scheme and host. Fragments are kept only for
    same-page anchors (``#annotation-1``, or a link to ``base`` itself, which becomes
    ``#annotation-1``). Non-http(s) URLs (``mailto:``, ``javascript:``, ``data:``) and
    empty strings are returned unchanged.
    """
    raw = _TAB_NEWLINE.sub("", url).strip()  # as browsers do
    if not raw or raw.startswith("#"):
        return raw if raw else url
    scheme = _SCHEME.match(raw)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        return url
    try:
        current = urljoin(base, raw) if base else raw
        for _ in range(_MAX_UNWRAP):
            inner = _unwrap(current)
            if inner is None:
                break
            if urlsplit(inner).scheme.lower() not in ("", "http", "https"):
                return inner
            current = urljoin(current, inner)
        return _clean(current, base)
    except ValueError:  # unparseable (bad port, broken IPv6 literal): leave it as written
        return raw


def _clean(url: str, base: str | None) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not scheme and not host:
        # relative reference without a base: clean the query, keep the path as written
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        query = sorted((k, v) for k, v in query if not _drop_param(k, host))
        return urlunsplit(("", "", parts.path, urlencode(query), ""))
    netloc = _canonical_host(host)
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{parts.port}"
    if scheme == "http" and _in_domain(host, _HTTPS_DOMAINS):
        scheme = "https"
    query_pairs = parse_qsl(parts.query, keep_blank_values=True)
    video = _video_redirect(host, parts.path, query_pairs)
    if video is not None:
        query = video
    elif _is_cdn(host):
        query = ""
    else:
        query = urlencode([(k, v) for k, v in query_pairs if not _drop_param(k, host)])
    path = parts.path or "/"
    canonical = canonicalize_url(urlunsplit((scheme, netloc, path, query, "")))
    # Parentheses and brackets would end or confuse a Markdown link target.
    path_start = canonical.find("/", len(scheme) + 3)  # after "scheme://host"
    if path_start != -1:
        canonical = canonical[:path_start] + canonical[path_start:].translate(_MARKDOWN_UNSAFE)
    if parts.fragment and base and _same_page(canonical, base):
        return "#" + parts.fragment
    return canonical


def _same_page(canonical: str, base: str) -> bool:
    """True if ``canonical`` points at the page ``base`` (ignoring its query)."""
    base_parts = urlsplit(_clean(base, None))
    parts = urlsplit(canonical)
    return (parts.scheme, parts.netloc, parts.path) == (
        base_parts.scheme,
        base_parts.netloc,
        base_parts.path,
    )


# ``](target)`` or ``](target "title")`` (a line break before ``](`` is fine).
_MD_TARGET = re.compile(
    r"""\]\(
        [ \t]*
        (?:<(?P<angle>[^<>\n]*)>|(?P<bare>[^\s()<>\[\]]*(?:\([^\s()\[\]]*\)[^\s()<>\[\]]*)*))
        (?P<title>[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?
        [ \t]*\)""",
    re.VERBOSE,
)
_MD_AUTOLINK = re.compile(r"<(?P<url>https?://[^<>\s]+)>", re.IGNORECASE)


def canonicalise_markdown(md: str, base: str | None = None) -> str:
    """Rewrite every Markdown link/image target and autolink through :func:`canonical_url`.

    ``base`` is the URL of the page the Markdown came from: relative targets resolve
    against it and links to the page itself become ``#fragment`` anchors.
    """

    def target(match: re.Match[str]) -> str:
        url = match.group("angle")
        if url is None:
            url = match.group("bare")
        new = canonical_url(url, base) if url else url
        if match.group("angle") is not None and re.search(r"\s", new):
            new = f"<{new}>"
        return f"]({new}{match.group('title') or ''})"

    def autolink(match: re.Match[str]) -> str:
        return f"<{canonical_url(match.group('url'), base)}>"

    return _MD_AUTOLINK.sub(autolink, _MD_TARGET.sub(target, md))


@lru_cache(maxsize=1 << 12)
def link_identity(url: str) -> str:
    """What ``url`` points to, for telling whether two links lead to the same place.

    >>> link_identity("HTTPS://www.TikTok.com/legal/right-to-object/?lang=en#top")
    'www.tiktok.com/legal/right-to-object'
    """
    rules = load("link_identity")
    parts = urlsplit(url.strip())
    params = frozenset(rules.get("params", []))
    prefixes = tuple(rules.get("param_prefixes", []))
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.casefold() not in params and not k.casefold().startswith(prefixes)
    ]
    path = parts.path
    if rules.get("trailing_slash", False):
        path = path.rstrip("/")
    scheme = "" if rules.get("scheme", False) else parts.scheme.casefold() + "://"
    fragment = "" if rules.get("fragment", False) or not parts.fragment else "#" + parts.fragment
    host = (parts.hostname or "").casefold()
    if parts.port and parts.port != _DEFAULT_PORTS.get(parts.scheme.casefold()):
        host += f":{parts.port}"
    if not host:  # not an absolute URL: compare it as written
        return url.strip()
    query_text = "?" + urlencode(sorted(query)) if query else ""
    return f"{scheme}{host}{path}{query_text}{fragment}"
