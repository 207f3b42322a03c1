//! `plate` and `well` metadata for high-content screening (0.4 spec, "plate metadata",
//! "well metadata").

ome_object! {
    /// The `plate` object of a plate group.
    #[derive(Default)]
    pub struct Plate ("a plate object") {
        /// `version` (0.4 and earlier only).
        opt "version" => pub version: Option<String>,
        /// `name` (SHOULD).
        opt "name" => pub name: Option<String>,
        /// `acquisitions`.
        opt "acquisitions" => pub acquisitions: Option<Vec<Acquisition>>,
        /// `rows`: row names, top to bottom.
        req "rows" => pub rows: Vec<NamedEntry>,
        /// `columns`: column names, left to right.
        req "columns" => pub columns: Vec<NamedEntry>,
        /// `wells`.
        req "wells" => pub wells: Vec<PlateWell>,
        /// `field_count`: the largest number of fields in any well.
        opt "field_count" => pub field_count: Option<u64>,
    }
}

ome_object! {
    /// An entry of `plate.rows` or `plate.columns`.
    #[derive(Default)]
    pub struct NamedEntry ("an object with a name") {
        /// `name`: alphanumeric.
        req "name" => pub name: String,
    }
}

ome_object! {
    /// An entry of `plate.wells`.
    #[derive(Default)]
    pub struct PlateWell ("a plate well object") {
        /// `path`: `<row>/<column>`.
        req "path" => pub path: String,
        /// `rowIndex` (MUST in 0.4+, absent before).
        opt "rowIndex" => pub row_index: Option<u64>,
        /// `columnIndex` (MUST in 0.4+, absent before).
        opt "columnIndex" => pub column_index: Option<u64>,
    }
}

ome_object! {
    /// An entry of `plate.acquisitions`.
    #[derive(Default)]
    pub struct Acquisition ("an acquisition object") {
        /// `id`: unique, non-negative.
        req "id" => pub id: i64,
        /// `name`.
        opt "name" => pub name: Option<String>,
        /// `maximumfieldcount`.
        opt "maximumfieldcount" => pub maximum_field_count: Option<u64>,
        /// `description`.
        opt "description" => pub description: Option<String>,
        /// `starttime`: epoch timestamp.
        opt "starttime" => pub start_time: Option<i64>,
        /// `endtime`: epoch timestamp.
        opt "endtime" => pub end_time: Option<i64>,
    }
}

ome_object! {
    /// The `well` object of a well group.
    #[derive(Default)]
    pub struct Well ("a well object") {
        /// `version` (0.4 and earlier only).
        opt "version" => pub version: Option<String>,
        /// `images`: the fields of view.
        req "images" => pub images: Vec<WellImage>,
    }
}

ome_object! {
    /// An entry of `well.images`.
    #[derive(Default)]
    pub struct WellImage ("a well image object") {
        /// `path`: the field's image group, relative to the well.
        req "path" => pub path: String,
        /// `acquisition`: an `acquisitions[].id` of the plate.
        opt "acquisition" => pub acquisition: Option<i64>,
    }
}

impl NamedEntry {
    /// An entry with `name`.
    pub fn new(name: impl Into<String>) -> Self {
        NamedEntry {
            name: name.into(),
            extra: Default::default(),
        }
    }
}

impl PlateWell {
    /// A well at `rows[row].name/columns[column].name` of `plate`; `None` when an index is
    /// out of range.
    pub fn at(plate: &Plate, row: usize, column: usize) -> Option<Self> {
        let r = plate.rows.get(row)?;
        let c = plate.columns.get(column)?;
        Some(PlateWell {
            path: format!("{}/{}", r.name, c.name),
            row_index: Some(row as u64),
            column_index: Some(column as u64),
            extra: Default::default(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plate_round_trip_and_helpers() {
        let v = json!({
            "name": "p", "rows": [{"name": "A"}], "columns": [{"name": "1"}],
            "wells": [{"path": "A/1", "rowIndex": 0, "columnIndex": 0}],
            "acquisitions": [{"id": 0, "maximumfieldcount": 2}], "field_count": 2, "version": "0.4"
        });
        let p: Plate = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(PlateWell::at(&p, 0, 0), Some(p.wells[0].clone()));
        assert_eq!(serde_json::to_value(&p).unwrap(), v);
        let w: Well =
            serde_json::from_value(json!({"images": [{"path": "0", "acquisition": 1}]})).unwrap();
        assert_eq!(w.images[0].acquisition, Some(1));
    }
}
