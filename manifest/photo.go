package manifest

import (
	"bytes"
	"path"
	"strings"
)

// The photo formats the built-in image-classification algorithm reads, as
// the content types it is sent (image/jpeg, image/png; it also takes
// application/x-image, either of the two).
const (
	ContentTypeJPEG = "image/jpeg"
	ContentTypePNG  = "image/png"
)

// photoExts are the extensions of the formats the algorithm reads.
var photoExts = map[string]string{".jpg": ContentTypeJPEG, ".jpeg": ContentTypeJPEG, ".png": ContentTypePNG}

// otherImageExts are image formats the algorithm does not read: their
// extension alone refuses a photo, whatever its bytes.
var otherImageExts = map[string]bool{
	".gif": true, ".webp": true, ".bmp": true, ".tif": true, ".tiff": true,
	".heic": true, ".heif": true, ".avif": true, ".svg": true, ".ico": true, ".jxl": true,
}

// PhotoExtDecides reports whether uri's extension alone decides PhotoType,
// so that a caller who could read the photo's first bytes need not.
func PhotoExtDecides(uri string) bool {
	ext := strings.ToLower(path.Ext(uri))
	_, ok := photoExts[ext]
	return ok || otherImageExts[ext]
}

// PhotoType is the one rule, used by the manifest step for training photos
// and by the stage step for the day's photos, for whether the built-in
// image-classification algorithm can read a photo. It returns the photo's
// content type, or "" and why not.
//
// The extension of uri's last path element decides first (any case):
// .jpg, .jpeg and .png are read; another image format (.gif, .webp, .bmp,
// .tif, …) is refused. With no extension or one that names no image
// format, the photo's first bytes decide when head holds them (the JPEG and
// PNG signatures); without them the photo is refused, since nothing says
// it is a JPEG or a PNG.
func PhotoType(uri string, head []byte) (contentType, reason string) {
	ext := strings.ToLower(path.Ext(uri))
	if ct, ok := photoExts[ext]; ok {
		return ct, ""
	}
	const want = "want a JPEG or PNG photo (.jpg, .jpeg, .png): the built-in image-classification algorithm reads no other format"
	if otherImageExts[ext] {
		return "", ext + " photo, " + want
	}
	what := "no extension"
	if ext != "" {
		what = "extension " + ext
	}
	if head == nil {
		return "", what + ", " + want
	}
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return ContentTypeJPEG, ""
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return ContentTypePNG, ""
	}
	return "", what + " and content that is neither JPEG nor PNG, " + want
}
