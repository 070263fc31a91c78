//! Session content as stored: optionally gzip-compressed bytes, base64 in the item, with the
//! compression flag stored per item so a store can switch compression and still read old items.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Encodes content for storage: gzip when `compress`, then base64.
pub(crate) fn encode(data: &[u8], compress: bool) -> String {
    if compress {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing into a Vec cannot fail.
        let packed = gz
            .write_all(data)
            .and_then(|()| gz.finish())
            .unwrap_or_default();
        STANDARD.encode(packed)
    } else {
        STANDARD.encode(data)
    }
}

/// Decodes stored content; `Err` says what was wrong (bad base64, bad gzip, over the limit).
pub(crate) fn decode(text: &str, compressed: bool, max_bytes: usize) -> Result<Vec<u8>, String> {
    let raw = STANDARD
        .decode(text)
        .map_err(|e| format!("not base64 ({e})"))?;
    if !compressed {
        return Ok(raw);
    }
    let mut out = Vec::new();
    // Bounded read: a gzip bomb cannot allocate more than the limit (+1 to detect it).
    flate2::read::GzDecoder::new(&raw[..])
        .take(max_bytes as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("not gzip ({e})"))?;
    if out.len() > max_bytes {
        return Err(format!("decompresses to more than {max_bytes} bytes"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_both_ways() {
        for compress in [false, true] {
            let data = b"hello hello hello hello".repeat(10);
            let text = encode(&data, compress);
            assert_eq!(decode(&text, compress, 1 << 20).unwrap(), data);
        }
        assert!(decode("!!", false, 10).is_err());
        assert!(decode(&encode(b"plain", false), true, 10).is_err());
        assert!(decode(&encode(&[0u8; 100], true), true, 10).is_err());
    }
}
