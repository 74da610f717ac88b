//! The console's built files, embedded in the binary: `api/build.rs` bundles `console/` with
//! esbuild into `OUT_DIR/console`, and they are served from memory at `/console` (the page) and
//! `/console/assets/{file}` (script and styles). No authentication: the page asks for a key.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

const INDEX_HTML: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/console/index.html"));
const APP_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/console/app.js"));
const APP_JS_GZ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/console/app.js.gz"));
const APP_CSS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/console/app.css"));

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    /// The same bytes gzipped, for clients that accept it.
    pub gzipped: Option<&'static [u8]>,
}

/// Every embedded file but the page itself.
pub const ASSETS: [Asset; 2] = [
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: APP_JS,
        gzipped: Some(APP_JS_GZ),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: APP_CSS,
        gzipped: None,
    },
];

/// Headers every console file carries: no framing by other sites, no sniffing, and only this
/// origin's scripts, styles and connections.
fn secured(mut response: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    response
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        ))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    response
}

/// `GET /console` and `/console/`: the page.
pub async fn index() -> HttpResponse {
    secured(HttpResponse::Ok())
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(INDEX_HTML)
}

/// `GET /console/assets/{file}`.
pub async fn file(request: HttpRequest) -> HttpResponse {
    let name = request.match_info().get("file").unwrap_or_default();
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == name) else {
        return crate::error::Error::NotFound.respond(&request);
    };
    let tag = etag(asset.bytes);
    let unchanged = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|given| given.as_bytes() == tag.as_bytes());
    // The browser revalidates each time; the files change only with the binary.
    let mut response = if unchanged {
        secured(HttpResponse::NotModified())
    } else {
        secured(HttpResponse::Ok())
    };
    response
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::ETAG, tag))
        .insert_header((header::VARY, "Accept-Encoding"));
    if unchanged {
        return response.finish();
    }
    response.content_type(asset.content_type);
    match asset.gzipped.filter(|_| accepts_gzip(&request)) {
        Some(gzipped) => response
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(gzipped),
        None => response.body(asset.bytes),
    }
}

/// Whether the request's `Accept-Encoding` lists gzip (without `q=0`).
fn accepts_gzip(request: &HttpRequest) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            parts.next() == Some("gzip") && parts.all(|param| param != "q=0" && param != "q=0.0")
        })
}

fn etag(bytes: &[u8]) -> String {
    format!("\"{}\"", &blake3::hash(bytes).to_hex()[..16])
}
