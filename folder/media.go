package folder

import (
	"path/filepath"
	"strings"
)

// The media archive (package media) adds to the layout:
//
//	DIR/
//	  media/<first two hex digits>/<sha256>[.ext]   one file per distinct content
//	  media/media.parquet                           the media table (one row per URL)
//	  media_links/media_links.parquet               which ad or post links to which URL
//	  _adharvest/media-tmp/                         downloads in flight (not data)
//
// A stored file's name is the SHA-256 of its bytes, so `sha256sum` verifies
// it. Downloads are written under the state folder and renamed into media/
// only when complete and synced: no file in media/ is ever partial.
const (
	mediaDir    = "media"
	mediaTmpDir = "media-tmp"
)

// MediaStore is the root of the content-addressed media store. It is also
// the folder of the media table (sink.Media), whose file sits at its top
// while the content files sit one level down, in the two-hex-digit folders.
func (f Folder) MediaStore() string { return filepath.Join(f.Dir, mediaDir) }

// MediaTemp is where media downloads in flight are written. It belongs to
// the process that holds the folder's lock, which may empty it on start.
func (f Folder) MediaTemp() string { return filepath.Join(f.Dir, stateDir, mediaTmpDir) }

// MediaRel is the path, relative to the folder and with forward slashes, of
// the stored file with content hash sum (lowercase hex) and extension ext
// ("" or ".mp4", ".jpeg", ...): media/ab/ab12….mp4.
func MediaRel(sum, ext string) string {
	return mediaDir + "/" + sum[:2] + "/" + sum + ext
}

// MediaFile is the absolute path of a stored file (see MediaRel).
func (f Folder) MediaFile(sum, ext string) string { return f.Abs(MediaRel(sum, ext)) }

// ParseMediaName splits a stored file's name into its hash and extension;
// ok is false for a name that is not 64 lowercase hex digits, optionally
// followed by an extension of lowercase letters and digits.
func ParseMediaName(name string) (sum, ext string, ok bool) {
	if len(name) < 64 {
		return "", "", false
	}
	sum, ext = name[:64], name[64:]
	if strings.Trim(sum, "0123456789abcdef") != "" {
		return "", "", false
	}
	if ext != "" {
		rest, dot := strings.CutPrefix(ext, ".")
		if !dot || rest == "" || len(rest) > 8 || strings.Trim(rest, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return "", "", false
		}
	}
	return sum, ext, true
}
