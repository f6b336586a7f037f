//! Arrow for the event trace and the timeline, handed to Python through the Arrow `PyCapsule` interface
//! (`__arrow_c_stream__`: a capsule named `arrow_array_stream` holding an `ArrowArrayStream`), so that
//! `pyarrow.table(x)`, `polars.DataFrame(trace)` and pandas (`DataFrame.from_arrow`, or through
//! pyarrow) take the columns without a Python object per row. Glue only: the core gives the rows as column vectors
//! (`crate::trace::columns`, `crate::sim::timeline`); this file wraps them in Arrow arrays.
//!
//! The schemas are documented in `docs/trace.md` (and `EventTrace.SCHEMA`); the trace's carries its
//! schema version as the metadata `escache.trace_schema_version`.

use crate::cluster::Cluster;
use crate::sim::timeline::{timeline_columns, Column, TimelineColumns};
use crate::sim::Simulation;
use crate::trace::{columns, DictColumn, TraceColumns, TRACE_SCHEMA_VERSION};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, DictionaryArray, Float64Array, Int32Array, Int64Array, RecordBatch,
    RecordBatchIterator, StringArray, UInt32Array, UInt64Array, UInt8Array,
};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::collections::HashMap;
use std::ffi::CStr;
use std::sync::Arc;

/// The capsule name the `PyCapsule` interface requires for a stream.
const STREAM_CAPSULE: &CStr = c"arrow_array_stream";

/// Rows per record batch: a batch's string columns stay far below Arrow's 2 GiB (`i32` offsets).
const BATCH_ROWS: usize = 65_536;

/// Record batches ready to hand over (built under the core's lock, handed over after it).
pub(crate) type Batches = Result<Vec<RecordBatch>, ArrowError>;

/// Row ranges `0..len` in batches; one empty range when `len` is 0, so that the schema is still
/// handed over.
fn ranges(len: usize) -> impl Iterator<Item = (usize, usize)> {
    let starts = (0..len.max(1)).step_by(BATCH_ROWS);
    starts.map(move |s| (s, (s + BATCH_ROWS).min(len)))
}

fn dictionary(column: &DictColumn<'_>) -> Result<ArrayRef, ArrowError> {
    let keys = column
        .codes
        .iter()
        .map(|&c| i32::try_from(c))
        .collect::<Result<Vec<i32>, _>>()
        .map_err(|_| ArrowError::InvalidArgumentError("a dictionary code past i32".into()))?;
    let values: ArrayRef = Arc::new(StringArray::from_iter_values(&column.values));
    // try_new checks every code against the values: a bad column is an error, not a bad array.
    Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(
        Int32Array::from(keys),
        values,
    )?))
}

fn dictionary_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

fn trace_batch(c: &TraceColumns<'_>) -> Result<RecordBatch, ArrowError> {
    let time = c
        .time
        .iter()
        .map(|&t| i64::try_from(t))
        .collect::<Result<Vec<i64>, _>>()
        .map_err(|_| {
            ArrowError::InvalidArgumentError(
                "an event time is past 2^63 nanoseconds, beyond the int64 time column".into(),
            )
        })?;
    let schema = Schema::new_with_metadata(
        vec![
            Field::new("v", DataType::UInt8, false),
            Field::new("time", DataType::Int64, false),
            Field::new("node", dictionary_type(), false),
            Field::new("kind", dictionary_type(), false),
            Field::new("cache", dictionary_type(), false),
            Field::new("key", DataType::Utf8, false),
            Field::new("detail", DataType::Utf8, false),
        ],
        HashMap::from([(
            "escache.trace_schema_version".to_string(),
            TRACE_SCHEMA_VERSION.to_string(),
        )]),
    );
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(UInt8Array::from(vec![TRACE_SCHEMA_VERSION; c.len()])),
        Arc::new(Int64Array::from(time)),
        dictionary(&c.node)?,
        dictionary(&c.kind)?,
        dictionary(&c.cache)?,
        Arc::new(StringArray::from_iter_values(&c.key)),
        Arc::new(StringArray::from_iter_values(&c.detail)),
    ];
    RecordBatch::try_new(Arc::new(schema), arrays)
}

/// The whole trace of `cluster` as record batches.
pub(crate) fn trace_batches(cluster: &Cluster) -> Batches {
    let names: Vec<&str> = cluster.nodes().iter().map(|n| n.name.as_str()).collect();
    ranges(cluster.events.len())
        .map(|(start, stop)| trace_batch(&columns(&cluster.events, &names, start, stop)))
        .collect()
}

fn timeline_batch(c: &TimelineColumns<'_>) -> Result<RecordBatch, ArrowError> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (name, column) in c.named() {
        let (data_type, nullable, array): (DataType, bool, ArrayRef) = match column {
            Column::Float64(v) => (
                DataType::Float64,
                false,
                Arc::new(Float64Array::from(v.to_vec())),
            ),
            Column::UInt32(v) => (
                DataType::UInt32,
                false,
                Arc::new(UInt32Array::from(v.to_vec())),
            ),
            Column::UInt64(v) => (
                DataType::UInt64,
                false,
                Arc::new(UInt64Array::from(v.to_vec())),
            ),
            Column::OptionUInt64(v) => (
                DataType::UInt64,
                true,
                Arc::new(UInt64Array::from(v.to_vec())),
            ),
            Column::OptionFloat64(v) => (
                DataType::Float64,
                true,
                Arc::new(Float64Array::from(v.to_vec())),
            ),
            Column::Dict(d) => (dictionary_type(), false, dictionary(d)?),
        };
        fields.push(Field::new(name, data_type, nullable));
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

/// Rows `0..stop` of the timeline as record batches.
pub(crate) fn timeline_batches(sim: &Simulation, cluster: &Cluster, stop: usize) -> Batches {
    let stop = stop.min(crate::sim::timeline::timeline_len(sim));
    ranges(stop)
        .map(|(start, end)| timeline_batch(&timeline_columns(sim, cluster, start, end)))
        .collect()
}

/// The batches as an `arrow_array_stream` capsule (what `__arrow_c_stream__` returns). A failure to
/// build them raises `IllegalStateError` with Arrow's reason.
pub(crate) fn stream_capsule(py: Python<'_>, batches: Batches) -> PyResult<Bound<'_, PyCapsule>> {
    let batches = batches
        .map_err(|e| super::errors::illegal_state(py, format!("cannot export to Arrow: {e}")))?;
    let schema = match batches.first() {
        Some(b) => b.schema(),
        // ok: `ranges` always yields a batch; an empty schema is still a valid stream.
        None => Arc::new(Schema::empty()),
    };
    let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
    // The capsule owns the stream; dropping it calls the stream's release unless a consumer moved it.
    PyCapsule::new_with_value(
        py,
        FFI_ArrowArrayStream::new(Box::new(reader)),
        STREAM_CAPSULE,
    )
}
