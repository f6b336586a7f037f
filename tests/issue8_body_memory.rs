//! Issue 8 point 8: parsing a request body costs memory linear in its size. A counting global
//! allocator (this test binary only) measures the peak bytes held while the reported body, a million
//! zeros in 990 nested arrays (2 MB), is parsed; the parser that built a JSON-pointer string per value
//! held about 2 GB for it.
//!
//! This file stays out of the single `tests/it` binary on purpose: a `#[global_allocator]` applies to
//! the whole binary, so there it would count the other tests' allocations (running on parallel
//! threads) into this test's peak.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn issue8_d08_body_parse_memory_is_linear() {
    let depth = 990;
    let zeros = 1_000_000;
    let mut body = String::from("{\"a\":");
    body.push_str(&"[".repeat(depth));
    body.push_str(&vec!["0"; zeros].join(","));
    body.push_str(&"]".repeat(depth));
    body.push('}');
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let parsed = escache::rest::parse_json_object(body.as_bytes(), "p").unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert!(parsed.value["a"].is_array());
    // What the result itself needs: a `serde_json::Value` per zero in a vector that grows by
    // doubling (at most twice the values while it grows), plus the body's copy kept for error
    // locations. The per-value paths needed about a thousand bytes per body byte.
    let values = 2 * zeros * std::mem::size_of::<serde_json::Value>();
    assert!(
        peak < values + 2 * body.len() + (1 << 20),
        "peak {peak} bytes for a {} byte body ({values} for the values)",
        body.len()
    );
}
