//! pyo3 glue (placeholder until the bindings land).
