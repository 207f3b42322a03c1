//! The `blosc` codec of builds without C blosc (`wasm32-unknown-unknown`, the validator in
//! the browser): a decoder only, in Rust, on [`super::blosc_tiles`]' checked decoding of
//! Blosc 1 chunks (blosclz, lz4, lz4hc, zlib and zstd streams; byte shuffle, bitshuffle or
//! none), registered with zarrs under the names its own blosc codec uses (`blosc`, Zarr v2
//! and v3), which the `native` feature builds instead.
//!
//! A Blosc 1 chunk describes itself (its header holds the compressor, shuffle, type size
//! and sizes), so the codec's configuration is kept only to be written back unchanged.
//! Encoding is refused with an error: nothing writes Zarr in such a build.
//!
//! Spec: the Zarr v3 blosc codec (<https://zarr-specs.readthedocs.io/en/latest/v3/codecs/blosc/>)
//! and numcodecs' Blosc for Zarr v2; the chunk format is c-blosc 1's (`README_HEADER.rst`).

#![cfg_attr(feature = "native", allow(dead_code))]

use std::borrow::Cow;
use std::sync::Arc;

use zarrs::array::codec::api::{
    BytesToBytesCodecTraits, Codec, CodecError, CodecMetadataOptions, CodecOptions, CodecTraits,
    CodecTraitsV2, CodecTraitsV3, PartialDecoderCapability, PartialEncoderCapability,
    RecommendedConcurrency,
};
#[cfg(not(feature = "native"))]
use zarrs::array::codec::api::{CodecPluginV2, CodecPluginV3};
use zarrs::array::{ArrayBytesRaw, BytesRepresentation};
use zarrs::metadata::Configuration;
use zarrs::metadata::v2::MetadataV2;
use zarrs::metadata::v3::MetadataV3;
use zarrs::plugin::{PluginCreateError, ZarrVersion};

/// Decodes Blosc 1 chunks; see the module documentation.
#[derive(Clone, Debug)]
pub struct BloscDecoder {
    configuration: Option<Configuration>,
}

zarrs::plugin::impl_extension_aliases!(BloscDecoder, v3: "blosc", v2: "blosc");

// Registered only where zarrs' own blosc codec (C blosc) is not built: one codec per name.
#[cfg(not(feature = "native"))]
inventory::submit! {
    CodecPluginV3::new::<BloscDecoder>()
}

#[cfg(not(feature = "native"))]
inventory::submit! {
    CodecPluginV2::new::<BloscDecoder>()
}

impl CodecTraitsV3 for BloscDecoder {
    fn create(metadata: &MetadataV3) -> Result<Codec, PluginCreateError> {
        Ok(Codec::BytesToBytes(Arc::new(Self {
            configuration: metadata.configuration().cloned(),
        })))
    }
}

impl CodecTraitsV2 for BloscDecoder {
    fn create(metadata: &MetadataV2) -> Result<Codec, PluginCreateError> {
        Ok(Codec::BytesToBytes(Arc::new(Self {
            configuration: Some(metadata.configuration().clone()),
        })))
    }
}

impl CodecTraits for BloscDecoder {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn configuration(
        &self,
        _version: ZarrVersion,
        _options: &CodecMetadataOptions,
    ) -> Option<Configuration> {
        self.configuration.clone()
    }

    fn partial_decoder_capability(&self) -> PartialDecoderCapability {
        PartialDecoderCapability {
            partial_read: false,
            partial_decode: false,
        }
    }

    fn partial_encoder_capability(&self) -> PartialEncoderCapability {
        PartialEncoderCapability {
            partial_encode: false,
        }
    }
}

impl BytesToBytesCodecTraits for BloscDecoder {
    fn into_dyn(self: Arc<Self>) -> Arc<dyn BytesToBytesCodecTraits> {
        self as Arc<dyn BytesToBytesCodecTraits>
    }

    fn recommended_concurrency(
        &self,
        _decoded_representation: &BytesRepresentation,
    ) -> Result<RecommendedConcurrency, CodecError> {
        Ok(RecommendedConcurrency::new_maximum(1))
    }

    fn encode<'a>(
        &self,
        _decoded_value: ArrayBytesRaw<'a>,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        Err(CodecError::Other(
            "blosc: this build decodes Blosc chunks only (C blosc is not built)".to_string(),
        ))
    }

    fn decode<'a>(
        &self,
        encoded_value: ArrayBytesRaw<'a>,
        decoded_representation: &BytesRepresentation,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        let decoded = super::blosc_tiles::decode(&encoded_value).ok_or_else(|| {
            CodecError::Other(
                "blosc: not a Blosc 1 chunk this build decodes (blosclz, lz4, lz4hc, zlib or \
                 zstd; byte shuffle, bitshuffle or none), or a malformed one"
                    .to_string(),
            )
        })?;
        if let Some(size) = decoded_representation.size()
            && decoded.len() as u64 != size
        {
            return Err(CodecError::Other(format!(
                "blosc: the chunk decodes to {} bytes, expected {size}",
                decoded.len()
            )));
        }
        Ok(Cow::Owned(decoded))
    }

    fn encoded_representation(
        &self,
        decoded_representation: &BytesRepresentation,
    ) -> BytesRepresentation {
        // c-blosc 1's bound: the decoded size plus its 16-byte header (`BLOSC_MAX_OVERHEAD`).
        decoded_representation
            .size()
            .map_or(BytesRepresentation::UnboundedSize, |size| {
                BytesRepresentation::BoundedSize(size + 16)
            })
    }
}

// With C blosc (the native build) to write the chunks it decodes.
#[cfg(all(test, feature = "native"))]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    /// The codec made from v2 and v3 metadata decodes a chunk c-blosc wrote (through the
    /// native build's zarrs codec), keeps its configuration, and refuses to encode and to
    /// decode a broken chunk, with a message.
    #[test]
    fn decodes_what_c_blosc_wrote_and_refuses_the_rest() {
        let v3: MetadataV3 = serde_json::from_str(
            r#"{"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "bitshuffle", "typesize": 2, "blocksize": 0}}"#,
        )
        .unwrap();
        let v2: MetadataV2 = serde_json::from_str(
            r#"{"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 2, "blocksize": 0}"#,
        )
        .unwrap();
        let data: Vec<u8> = (0..40_000u32)
            .flat_map(|i| ((i * 7 % 1031) as u16).to_le_bytes())
            .collect();
        let native = zarrs::array::codec::BloscCodec::new(
            zarrs::array::codec::BloscCompressor::LZ4,
            5.try_into().unwrap(),
            None,
            zarrs::array::codec::BloscShuffleMode::BitShuffle,
            Some(2),
        )
        .unwrap();
        let encoded = native
            .encode(Cow::Borrowed(&data), &CodecOptions::default())
            .unwrap()
            .into_owned();
        let repr = BytesRepresentation::FixedSize(data.len() as u64);
        for codec in [
            <BloscDecoder as CodecTraitsV3>::create(&v3).unwrap(),
            <BloscDecoder as CodecTraitsV2>::create(&v2).unwrap(),
        ] {
            let Codec::BytesToBytes(codec) = codec else {
                panic!("expected a bytes-to-bytes codec");
            };
            let got = codec
                .decode(Cow::Borrowed(&encoded), &repr, &CodecOptions::default())
                .unwrap();
            assert!(got.as_ref() == data.as_slice());
            let config = codec
                .configuration(ZarrVersion::V3, &CodecMetadataOptions::default())
                .unwrap();
            assert_eq!(config.get("cname").and_then(|v| v.as_str()), Some("lz4"));
            let mut broken = encoded.clone();
            broken.truncate(broken.len() - 5);
            let e = codec
                .decode(Cow::Owned(broken), &repr, &CodecOptions::default())
                .unwrap_err();
            assert!(e.to_string().contains("malformed"), "{e}");
            let e = codec
                .decode(
                    Cow::Borrowed(&encoded),
                    &BytesRepresentation::FixedSize(7),
                    &CodecOptions::default(),
                )
                .unwrap_err();
            assert!(e.to_string().contains("expected 7"), "{e}");
            assert!(
                codec
                    .encode(Cow::Borrowed(&data), &CodecOptions::default())
                    .is_err()
            );
        }
    }
}
