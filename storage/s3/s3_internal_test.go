package s3

import "testing"

func TestEscapeCopySource(t *testing.T) {
	tests := []struct{ in, want string }{
		{"b/k", "b/k"},
		{"b/dir/sub/x.jpg", "b/dir/sub/x.jpg"},
		{"b/with space.jpg", "b/with%20space.jpg"},
		{"b/a+b.jpg", "b/a%2Bb.jpg"},
		{"b/100%.jpg", "b/100%25.jpg"},
		{"b/already%20escaped", "b/already%2520escaped"},
		{"b/ü", "b/%C3%BC"},
		{"b/日本 🙂", "b/%E6%97%A5%E6%9C%AC%20%F0%9F%99%82"},
		{"b/q?x=1&y#z", "b/q%3Fx%3D1%26y%23z"},
		{"b/-_.~", "b/-_.~"},
	}
	for _, tt := range tests {
		if got := escapeCopySource(tt.in); got != tt.want {
			t.Errorf("escapeCopySource(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
