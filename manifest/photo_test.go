package manifest

import (
	"strings"
	"testing"
)

func TestPhotoType(t *testing.T) {
	jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF")
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00")
	gif := []byte("GIF89a")
	tests := []struct {
		name, uri string
		head      []byte
		want      string // content type; "" means refused
		reason    string // words the reason must hold
	}{
		{"jpg", "s3://b/a.jpg", nil, ContentTypeJPEG, ""},
		{"jpeg upper case", "s3://b/A.JPEG", nil, ContentTypeJPEG, ""},
		{"png", "/data/x.png", nil, ContentTypePNG, ""},
		{"webp", "s3://b/a.webp", nil, "", ".webp photo"},
		{"gif with jpeg bytes", "s3://b/a.gif", jpeg, "", ".gif photo"},
		{"bmp", "s3://b/a.bmp", nil, "", ".bmp"},
		{"tif", "s3://b/a.tif", nil, "", ".tif"},
		{"no extension, no bytes", "s3://b/photo", nil, "", "no extension"},
		{"dot in a folder name only", "s3://b/v1.2/photo", nil, "", "no extension"},
		{"no extension, jpeg bytes", "s3://b/photo", jpeg, ContentTypeJPEG, ""},
		{"unknown extension, png bytes", "s3://b/photo.bin", png, ContentTypePNG, ""},
		{"no extension, gif bytes", "s3://b/photo", gif, "", "neither JPEG nor PNG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, reason := PhotoType(tt.uri, tt.head)
			if ct != tt.want {
				t.Fatalf("PhotoType(%q) = %q (%s), want %q", tt.uri, ct, reason, tt.want)
			}
			if tt.want == "" && !strings.Contains(reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", reason, tt.reason)
			}
			if tt.want == "" && !strings.Contains(reason, "JPEG or PNG") {
				t.Errorf("reason %q does not say what is wanted", reason)
			}
		})
	}
}
