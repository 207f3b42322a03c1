//! Writes a metadata-only OME-Zarr 0.4 plate (Zarr v2, no chunks) for the speed benchmark:
//! `cargo run --release -p ome-validate --example make_plate -- OUT [ROWS COLS FIELDS]`
//! (default 16 x 24 = 384 wells, 4 fields per well, 2 levels per field).

use std::fs;
use std::path::Path;

use serde_json::json;

fn write(path: &Path, value: &serde_json::Value) -> std::io::Result<()> {
    fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    fs::write(path, serde_json::to_vec(value).unwrap_or_default())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(out) = args.get(1) else {
        eprintln!("usage: make_plate OUT [ROWS COLS FIELDS]");
        std::process::exit(2);
    };
    let num = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (nrows, ncols, nfields) = (num(2, 16), num(3, 24), num(4, 4));
    let root = Path::new(out);
    let rows: Vec<String> = (0..nrows)
        .map(|r| ((b'A' + (r % 26) as u8) as char).to_string() + &"A".repeat(r / 26))
        .collect();
    let cols: Vec<String> = (1..=ncols).map(|c| c.to_string()).collect();
    let mut wells = Vec::new();
    for (ri, r) in rows.iter().enumerate() {
        for (ci, c) in cols.iter().enumerate() {
            wells.push(json!({"path": format!("{r}/{c}"), "rowIndex": ri, "columnIndex": ci}));
        }
    }
    write(&root.join(".zgroup"), &json!({"zarr_format": 2}))?;
    write(
        &root.join(".zattrs"),
        &json!({"plate": {
            "version": "0.4", "name": "bench", "field_count": nfields,
            "acquisitions": [{"id": 0, "name": "a", "maximumfieldcount": nfields}],
            "rows": rows.iter().map(|n| json!({"name": n})).collect::<Vec<_>>(),
            "columns": cols.iter().map(|n| json!({"name": n})).collect::<Vec<_>>(),
            "wells": wells,
        }}),
    )?;
    let image = json!({"multiscales": [{
    "version": "0.4", "name": "field", "type": "mean", "metadata": {},
    "axes": [{"name": "c", "type": "channel"}, {"name": "y", "type": "space", "unit": "micrometer"}, {"name": "x", "type": "space", "unit": "micrometer"}],
    "datasets": [
        {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 0.5, 0.5]}]},
        {"path": "1", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0, 1.0]}]}
    ]}]});
    let array = |n: u64| {
        json!({"zarr_format": 2, "shape": [1, n, n], "chunks": [1, n, n], "dtype": "<u2",
        "compressor": null, "fill_value": 0, "order": "C", "filters": null, "dimension_separator": "/"})
    };
    for r in &rows {
        write(&root.join(r).join(".zgroup"), &json!({"zarr_format": 2}))?;
        for c in &cols {
            let well = root.join(r).join(c);
            write(&well.join(".zgroup"), &json!({"zarr_format": 2}))?;
            let images: Vec<_> = (0..nfields)
                .map(|f| json!({"path": f.to_string(), "acquisition": 0}))
                .collect();
            write(
                &well.join(".zattrs"),
                &json!({"well": {"version": "0.4", "images": images}}),
            )?;
            for f in 0..nfields {
                let field = well.join(f.to_string());
                write(&field.join(".zgroup"), &json!({"zarr_format": 2}))?;
                write(&field.join(".zattrs"), &image)?;
                write(&field.join("0").join(".zarray"), &array(256))?;
                write(&field.join("1").join(".zarray"), &array(128))?;
            }
        }
    }
    println!(
        "wrote {} wells x {nfields} fields to {}",
        rows.len() * cols.len(),
        root.display()
    );
    Ok(())
}
