//! Reading whole lists: the first page says how many objects match, the remaining pages are
//! then fetched concurrently by offset (bounded by the client's concurrency), and long id
//! filters are split into chunks so URLs stay short.

use futures::{StreamExt, TryStreamExt, stream};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::client::NetBoxClient;
use super::error::NetBoxError;

/// Ids per request for `id=`/`device_id=` style filters: keeps URLs well under proxy limits.
pub(crate) const ID_CHUNK: usize = 150;

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default)]
    count: Option<usize>,
    #[serde(default)]
    next: Option<String>,
    results: Vec<T>,
}

/// A list request: filters (repeating a key ORs the values) and the fields to return.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filters: Vec<(String, String)>,
    /// `?fields=`: only what the caller reads, which is what makes big lists fast.
    pub fields: Option<String>,
}

impl ListQuery {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn filter(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.filters.push((key.into(), value.to_string()));
        self
    }

    /// Objects whose custom field `name` equals `value`.
    pub(crate) fn custom_field(self, name: &str, value: impl ToString) -> Self {
        self.filter(format!("cf_{name}"), value)
    }

    /// Objects carrying the tag `slug`.
    pub fn tag(self, slug: &str) -> Self {
        self.filter("tag", slug)
    }

    pub fn fields(mut self, fields: &[&str]) -> Self {
        self.fields = Some(fields.join(","));
        self
    }

    fn page(&self, offset: usize, limit: usize) -> Vec<(String, String)> {
        let mut query = self.filters.clone();
        if let Some(fields) = &self.fields {
            query.push(("fields".into(), fields.clone()));
        }
        query.push(("limit".into(), limit.to_string()));
        query.push(("offset".into(), offset.to_string()));
        query
    }
}

impl NetBoxClient {
    /// Every object of a list endpoint matching `query`.
    pub async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &ListQuery,
    ) -> Result<Vec<T>, NetBoxError> {
        let limit = self.page_size();
        let first: Page<T> = self.get(path, &query.page(0, limit)).await?;
        let mut objects = first.results;
        let Some(count) = first.count else {
            return Ok(objects);
        };
        // NetBox silently clamps `limit` to its MAX_PAGE_SIZE: step by what it really returned.
        let step = objects.len();
        if count <= step || step == 0 || first.next.is_none() {
            return Ok(objects);
        }
        let offsets = (step..count).step_by(step);
        let pages: Vec<Page<T>> = stream::iter(offsets)
            .map(|offset| {
                let page_query = query.page(offset, step);
                async move { self.get::<Page<T>>(path, &page_query).await }
            })
            .buffered(self.concurrency())
            .try_collect()
            .await?;
        objects.reserve(count.saturating_sub(objects.len()));
        for page in pages {
            objects.extend(page.results);
        }
        Ok(objects)
    }

    /// Every object matching `query` plus `key=<id>` for any of `ids` (chunked, concurrent).
    pub(crate) async fn list_by_ids<T: DeserializeOwned>(
        &self,
        path: &str,
        key: &str,
        ids: &[u64],
        query: &ListQuery,
    ) -> Result<Vec<T>, NetBoxError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Owned chunks: a closure over borrowed slices makes the future fail the `Send`
        // check of callers behind `async_trait` (a higher-ranked lifetime limitation).
        let owned: Vec<Vec<u64>> = ids.chunks(ID_CHUNK).map(<[u64]>::to_vec).collect();
        let chunks: Vec<Vec<T>> = stream::iter(owned)
            .map(|chunk| {
                let mut chunk_query = query.clone();
                chunk_query
                    .filters
                    .extend(chunk.iter().map(|id| (key.to_owned(), id.to_string())));
                async move { self.list::<T>(path, &chunk_query).await }
            })
            .buffer_unordered(self.concurrency())
            .try_collect()
            .await?;
        Ok(chunks.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_carries_custom_field_tag_fields_and_page() {
        let query = ListQuery::new()
            .custom_field("hedgehog_fabric", "lab")
            .tag("hedgehog-external")
            .fields(&["id", "name"]);
        let pairs: Vec<String> = query
            .page(2000, 1000)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            pairs,
            [
                "cf_hedgehog_fabric=lab",
                "tag=hedgehog-external",
                "fields=id,name",
                "limit=1000",
                "offset=2000"
            ]
        );
    }
}
