package convnet

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
)

// DefaultMaxPixels is the largest photo Decode accepts by default: 50
// megapixels (200 MB once decoded), above any phone camera's default
// output.
const DefaultMaxPixels = 50_000_000

// DefaultMaxBytes is the largest encoded photo Decode reads by default:
// 40 MiB, Ground Truth's limit per image.
const DefaultMaxBytes = 40 << 20

// ErrFormat is returned (wrapped) for a photo that is neither JPEG nor
// PNG.
var ErrFormat = errors.New("unsupported image format")

// A TooLargeError refuses a photo whose header declares more pixels than
// the limit: it is not decoded (a decompression bomb would take the
// memory of width×height×4 bytes).
type TooLargeError struct {
	Width, Height int
	MaxPixels     int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("image of %d×%d pixels is larger than the limit of %d pixels; not decoded", e.Width, e.Height, e.MaxPixels)
}

// DecodeOptions bound what Decode accepts. The zero value uses the
// defaults.
type DecodeOptions struct {
	// MaxPixels is the largest width×height accepted; 0 means
	// DefaultMaxPixels.
	MaxPixels int
	// MaxBytes is the largest encoded size read; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// Decode reads a JPEG or PNG photo. It tells the format from the first
// bytes (not from a name, and not from image.Decode's registry, so a GIF
// or WebP decoder linked into the program is never used), reads the header
// with DecodeConfig, and refuses with a *TooLargeError a photo above the
// pixel limit before decoding it. Anything else is an error wrapping
// ErrFormat.
func Decode(r io.Reader, opts DecodeOptions) (image.Image, string, error) {
	maxBytes := opts.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("read image: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, "", fmt.Errorf("image larger than %d bytes; not decoded", maxBytes)
	}
	return DecodeBytes(data, opts)
}

// DecodeBytes is Decode on a photo already in memory.
func DecodeBytes(data []byte, opts DecodeOptions) (image.Image, string, error) {
	maxPixels := opts.MaxPixels
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	format := sniff(data)
	var config func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	switch format {
	case "jpeg":
		config, decode = jpeg.DecodeConfig, jpeg.Decode
	case "png":
		config, decode = png.DecodeConfig, png.Decode
	case "":
		return nil, "", fmt.Errorf("%w: not JPEG or PNG (first bytes % x)", ErrFormat, data[:min(len(data), 8)])
	default:
		return nil, format, fmt.Errorf("%w %s: want JPEG or PNG", ErrFormat, format)
	}
	cfg, err := config(bytes.NewReader(data))
	if err != nil {
		return nil, format, fmt.Errorf("read %s header: %w", format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, format, fmt.Errorf("%s image of %d×%d pixels: empty", format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, format, &TooLargeError{Width: cfg.Width, Height: cfg.Height, MaxPixels: maxPixels}
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, format, fmt.Errorf("decode %s: %w", format, err)
	}
	return img, format, nil
}

// sniff names the format from the magic bytes: "jpeg", "png", another
// format's name (refused), or "".
func sniff(b []byte) string {
	has := func(p string) bool { return bytes.HasPrefix(b, []byte(p)) }
	switch {
	case has("\xff\xd8\xff"):
		return "jpeg"
	case has("\x89PNG\r\n\x1a\n"):
		return "png"
	case has("GIF87a"), has("GIF89a"):
		return "gif"
	case len(b) >= 12 && has("RIFF") && string(b[8:12]) == "WEBP":
		return "webp"
	case has("BM"):
		return "bmp"
	case has("II*\x00"), has("MM\x00*"):
		return "tiff"
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		return "heif" // HEIC/HEIF/AVIF: an ISO media file
	}
	return ""
}
