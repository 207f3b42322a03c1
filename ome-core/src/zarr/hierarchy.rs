//! Navigating an OME-Zarr hierarchy: images, labels, plates, wells, fields and
//! bioformats2raw series, each opened lazily from its group metadata.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::array::ZarrArray;
use super::store::{NodeMeta, NodeType, Store, ZarrFormat};
use crate::error::{Error, Result};
use crate::image::model::{Image, ImageParts, Level, LevelRead};
use crate::location::Location;
use crate::metadata::{AttributeLayout, NgffVersion, NodeKind, OmeAttributes};
use crate::options::Limits;

/// One group of an OME-Zarr hierarchy with its OME metadata.
#[derive(Debug, Clone)]
pub struct OmeZarr {
    store: Arc<Store>,
    node: String,
    meta: NodeMeta,
    ome: OmeAttributes,
}

impl OmeZarr {
    /// Opens the group at `path` with default [`Limits`].
    ///
    /// # Errors
    /// Storage errors, or format errors naming the document and JSON Pointer.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with_limits(path, Limits::default())
    }

    /// Opens the group at `path` with explicit limits.
    ///
    /// # Errors
    /// As [`OmeZarr::open`].
    pub fn open_with_limits(path: impl AsRef<Path>, limits: Limits) -> Result<Self> {
        let store = Arc::new(Store::open(path.as_ref(), limits)?);
        Self::at(store, String::new())
    }

    fn at(store: Arc<Store>, node: String) -> Result<Self> {
        let meta = store.node(&node)?.ok_or_else(|| {
            Error::format(
                store.location(&node),
                "expected Zarr metadata (zarr.json, .zgroup or .zattrs), found none",
            )
        })?;
        let base = Location::zarr_pointer(store.root(), &node, meta.attributes_document, "");
        let ome = OmeAttributes::from_attributes(&meta.attributes, &base)?;
        Ok(OmeZarr {
            store,
            node,
            meta,
            ome,
        })
    }

    /// The path of this group on disk.
    pub fn path(&self) -> PathBuf {
        if self.node.is_empty() {
            self.store.root().to_path_buf()
        } else {
            self.store.root().join(&self.node)
        }
    }

    /// The Zarr format of the group.
    pub fn zarr_format(&self) -> ZarrFormat {
        self.meta.format
    }

    /// Whether the node is an array rather than a group.
    pub fn is_array(&self) -> bool {
        self.meta.node_type == NodeType::Array
    }

    /// The OME metadata of the group.
    pub fn attributes(&self) -> &OmeAttributes {
        &self.ome
    }

    /// What the group holds.
    pub fn kind(&self) -> NodeKind {
        self.ome.kind()
    }

    /// The NGFF version declared by the metadata.
    pub fn version(&self) -> Option<NgffVersion> {
        self.ome.version()
    }

    /// Opens a group below this one by a relative path (`labels/cells`, `A/1`, `A/1/0`).
    ///
    /// # Errors
    /// Format errors for paths that leave the hierarchy or nodes without metadata.
    pub fn child(&self, relative: &str) -> Result<OmeZarr> {
        let at = self.store.location(&self.node);
        let node = self.store.child_path(&self.node, relative, &at)?;
        Self::at(Arc::clone(&self.store), node)
    }

    /// Names of the label images listed in the `labels` group, or none.
    ///
    /// # Errors
    /// Format errors in the labels group metadata.
    pub fn label_names(&self) -> Result<Vec<String>> {
        let labels_node =
            self.store
                .child_path(&self.node, "labels", &self.store.location(&self.node))?;
        match self.store.node(&labels_node)? {
            None => Ok(Vec::new()),
            Some(meta) => {
                let base = Location::zarr_pointer(
                    self.store.root(),
                    &labels_node,
                    meta.attributes_document,
                    "",
                );
                let ome = OmeAttributes::from_attributes(&meta.attributes, &base)?;
                Ok(ome.labels.clone().unwrap_or_default())
            }
        }
    }

    /// Opens the label image `name`.
    ///
    /// # Errors
    /// As [`OmeZarr::image`].
    pub fn label(&self, name: &str) -> Result<Image> {
        self.child(&format!("labels/{name}"))?.image()
    }

    /// Well paths of a plate (`A/1`), in the order the plate lists them.
    pub fn wells(&self) -> Vec<String> {
        self.ome
            .plate
            .as_ref()
            .map(|p| p.wells.iter().map(|w| w.path.clone()).collect())
            .unwrap_or_default()
    }

    /// Field (image) paths of a well, relative to the well.
    pub fn fields(&self) -> Vec<String> {
        self.ome
            .well
            .as_ref()
            .map(|w| w.images.iter().map(|i| i.path.clone()).collect())
            .unwrap_or_default()
    }

    /// Series of a bioformats2raw layout: the `series` list of the `OME` group, or else the
    /// numbered child groups `0`, `1`, ... (bioformats2raw layout, NGFF 0.4 section
    /// "bioformats2raw.layout").
    ///
    /// # Errors
    /// Format errors in the `OME` group metadata.
    pub fn series(&self) -> Result<Vec<String>> {
        if self.ome.bioformats2raw_layout.is_none() {
            return Ok(Vec::new());
        }
        if let Ok(ome_group) = self.child("OME")
            && let Some(series) = &ome_group.ome.series
        {
            return Ok(series.clone());
        }
        let mut numbered: Vec<(u64, String)> = self
            .store
            .list_children(&self.node)?
            .into_iter()
            .filter_map(|n| n.parse::<u64>().ok().map(|i| (i, n)))
            .collect();
        numbered.sort();
        Ok(numbered.into_iter().map(|(_, n)| n).collect())
    }

    /// The OME-XML of a bioformats2raw container, `OME/METADATA.ome.xml` (bioformats2raw
    /// layout, NGFF 0.4 section "bioformats2raw.layout": "the OME-XML metadata ... stored in
    /// a file named METADATA.ome.xml"); `None` when this group is not a container or the
    /// file is absent. The document is read under [`Limits::max_xml_bytes`] and parsed
    /// under [`Limits::xml_limits`].
    ///
    /// # Errors
    /// Limits, I/O and XML errors, located at the file.
    pub fn ome_xml(&self) -> Result<Option<crate::ome_xml::OmeXml>> {
        if self.ome.bioformats2raw_layout.is_none() {
            return Ok(None);
        }
        let limits = self.store.limits();
        let node = if self.node.is_empty() {
            "OME".to_string()
        } else {
            format!("{}/OME", self.node)
        };
        let Some(bytes) =
            self.store
                .read_file(&node, "METADATA.ome.xml", limits.max_xml_bytes as u64)?
        else {
            return Ok(None);
        };
        let file = self.store.root().join(&node).join("METADATA.ome.xml");
        crate::ome_xml::parse_bytes(&bytes, &limits.xml_limits())
            .map_err(|e| e.or_location(|| Location::file(&file)))
            .map(Some)
    }

    /// Opens the multiscale image of this group (the first multiscale when there are several).
    ///
    /// # Errors
    /// A usage error when the group holds no image; format errors for missing levels,
    /// levels whose dimensions or types disagree with each other or with the axes.
    pub fn image(&self) -> Result<Image> {
        let loc = |ptr: &str| {
            Location::zarr_pointer(
                self.store.root(),
                &self.node,
                self.meta.attributes_document,
                ptr,
            )
        };
        let Some(multiscales) = self.ome.multiscales.as_ref() else {
            return Err(Error::new(
                crate::ErrorKind::Usage,
                self.store.location(&self.node),
                format!(
                    "expected an image (multiscales metadata), found {}",
                    self.kind().describe()
                ),
            ));
        };
        let prefix = if self.ome.layout == AttributeLayout::Nested {
            "/ome"
        } else {
            ""
        };
        let multiscale = multiscales.first().ok_or_else(|| {
            Error::format(
                loc(&format!("{prefix}/multiscales")),
                "expected at least one multiscale, found an empty list",
            )
        })?;
        if multiscale.datasets.is_empty() {
            return Err(Error::format(
                loc(&format!("{prefix}/multiscales/0/datasets")),
                "expected at least one dataset, found none",
            ));
        }
        if multiscale.datasets.len() > self.store.limits().max_list_entries {
            return Err(Error::limits(
                loc(&format!("{prefix}/multiscales/0/datasets")),
                "too many datasets",
            ));
        }
        let version = self.version();
        let nodes = multiscale
            .datasets
            .iter()
            .enumerate()
            .map(|(i, ds)| {
                let ptr = format!("{prefix}/multiscales/0/datasets/{i}/path");
                self.store.child_path(&self.node, &ds.path, &loc(&ptr))
            })
            .collect::<Result<Vec<_>>>()?;
        // Remote: every level's documents in one round of concurrent requests.
        self.store.prefetch_nodes(&nodes);
        let mut readers = Vec::new();
        let mut levels = Vec::new();
        for ((i, ds), node) in multiscale.datasets.iter().enumerate().zip(nodes) {
            let ptr = format!("{prefix}/multiscales/0/datasets/{i}/path");
            let meta = self.store.node(&node)?.ok_or_else(|| {
                Error::format(
                    loc(&ptr),
                    format!("dataset {:?} names an array that does not exist", ds.path),
                )
            })?;
            if meta.node_type != NodeType::Array {
                return Err(Error::format(
                    loc(&ptr),
                    format!("dataset {:?} is a group, expected an array", ds.path),
                ));
            }
            let array = ZarrArray::open(&self.store, &node, &meta)?;
            if let Some(first) = levels.first() {
                let first: &Level = first;
                if first.dtype != array.dtype {
                    return Err(Error::format(
                        array.location().clone(),
                        format!(
                            "level {i} has data type {}, level 0 has {}",
                            array.dtype, first.dtype
                        ),
                    ));
                }
                if first.shape.len() != array.shape.len() {
                    return Err(Error::format(
                        array.location().clone(),
                        format!(
                            "level {i} has {} dimensions, level 0 has {}",
                            array.shape.len(),
                            first.shape.len()
                        ),
                    ));
                }
            }
            levels.push(Level {
                path: ds.path.clone(),
                shape: array.shape.clone(),
                chunks: array.layout.chunks.clone(),
                shards: array.layout.shards.clone(),
                dtype: array.dtype,
                codecs: array.layout.codecs.clone(),
                scale: multiscale.level_scale(i),
                translation: multiscale.level_translation(i),
                transform: ds.transform(),
            });
            readers.push(Arc::new(array) as Arc<dyn LevelRead>);
        }
        let ndim = levels[0].shape.len();
        let axes = multiscale.effective_axes(ndim);
        if axes.len() != ndim {
            return Err(Error::format(
                loc(&format!("{prefix}/multiscales/0/axes")),
                format!(
                    "expected {ndim} axes to match the arrays, found {}",
                    axes.len()
                ),
            ));
        }
        for (i, level) in levels.iter().enumerate() {
            for (what, v) in [("scale", &level.scale), ("translation", &level.translation)] {
                if let Some(v) = v
                    && v.len() != ndim
                {
                    return Err(Error::format(
                        loc(&format!(
                            "{prefix}/multiscales/0/datasets/{i}/coordinateTransformations"
                        )),
                        format!(
                            "expected {ndim} {what} values to match the axes, found {}",
                            v.len()
                        ),
                    ));
                }
            }
        }
        let mut parts =
            ImageParts::new(self.path(), axes, levels.into_iter().zip(readers).collect());
        parts.name.clone_from(&multiscale.name);
        parts.version = version;
        parts.raw_version = self.ome.raw_version().map(str::to_owned);
        if let Some(systems) = &multiscale.coordinate_systems {
            parts.coordinate_systems.clone_from(systems);
            parts.intrinsic_system = multiscale.intrinsic_name().map(str::to_owned);
            parts.transformations = multiscale
                .coordinate_transformations
                .clone()
                .unwrap_or_default();
        }
        parts.channels = self
            .ome
            .omero
            .as_ref()
            .map(|o| o.channels.clone())
            .unwrap_or_default();
        Image::from_parts(parts)
    }
}
