//! Walking the pages of a HAL collection: follow `_links.next.href`
//! verbatim, with loop detection and a page cap, for the typed reads and for
//! `dump`'s raw copies alike.

use std::collections::HashSet;

use bytes::Bytes;
use reqwest::{Method, Url};
use serde::de::IgnoredAny;

use super::EnvClient;
use crate::pingone::hal::parse_page;
use crate::pingone::{ApiError, Endpoint};

impl EnvClient {
    /// Reads the pages of a collection from `first`, handing each body to
    /// `on_page`, which returns the page's `_links.next.href` (or `None` to
    /// stop). Relative links are resolved against the page's URL; a link to
    /// another origin is re-based onto the configured `api_url` so the token
    /// only ever goes to the configured host. A link to a page already read
    /// is [`ApiError::PagingLoop`]; more than the page cap is
    /// [`ApiError::PageCap`].
    pub(super) async fn pages(
        &self,
        endpoint: Endpoint,
        first: Url,
        mut on_page: impl FnMut(&Bytes) -> Result<Option<String>, ApiError>,
    ) -> Result<(), ApiError> {
        let cap = self.client.settings().page_cap;
        let mut seen = HashSet::new();
        let mut url = first;
        for _ in 0..cap {
            if !seen.insert(url.as_str().to_string()) {
                return Err(ApiError::PagingLoop { endpoint });
            }
            let body = self.call(endpoint, Method::GET, url.clone()).await?;
            let Some(next) = on_page(&body)? else {
                return Ok(());
            };
            url = self.follow(endpoint, &url, &next)?;
        }
        Err(ApiError::PageCap {
            endpoint,
            pages: cap,
        })
    }

    /// The bodies of the first `max_pages` (>= 1) pages of a collection, as
    /// PingOne sent them, each checked to be a JSON object: `dump`'s copy.
    pub async fn raw_pages(
        &self,
        endpoint: Endpoint,
        first: Url,
        max_pages: usize,
    ) -> Result<Vec<Bytes>, ApiError> {
        let mut bodies = Vec::new();
        self.pages(endpoint, first, |body| {
            let page =
                parse_page::<IgnoredAny>(body, "").map_err(|e| self.parse_error(endpoint, e))?;
            bodies.push(body.clone());
            Ok(page.next.filter(|_| bodies.len() < max_pages.max(1)))
        })
        .await?;
        Ok(bodies)
    }
}
