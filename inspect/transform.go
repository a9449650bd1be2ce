package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// WriteTransformManifest writes a Batch Transform ManifestFile: the JSON
// array [{"prefix":prefix}, key, ...], one element a line. Each input of the
// job is prefix + key.
//
// prefix must end in "/" (SageMaker joins prefix and key as strings, so a
// prefix without one would glue the key to the last folder's name). Keys
// must be non-empty, must not start with "/", and must not repeat: a key
// listed twice would be transformed twice into the same output.
func WriteTransformManifest(w io.Writer, prefix string, keys []string) error {
	if prefix == "" || !strings.HasSuffix(prefix, "/") {
		return fmt.Errorf("transform manifest: prefix %q, want one ending in /", prefix)
	}
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		switch {
		case k == "":
			return fmt.Errorf("transform manifest: key %d is empty", i+1)
		case strings.HasPrefix(k, "/"):
			return fmt.Errorf("transform manifest: key %d %q starts with /, want a key relative to %s", i+1, k, prefix)
		case seen[k]:
			return fmt.Errorf("transform manifest: key %q listed twice", k)
		}
		seen[k] = true
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keys keep their & < > as they are
	// encode appends v's JSON without the newline Encode ends it with.
	encode := func(dst []byte, v any) ([]byte, error) {
		buf.Reset()
		if err := enc.Encode(v); err != nil {
			return dst, err
		}
		return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...), nil
	}
	out, err := encode([]byte("["), struct {
		Prefix string `json:"prefix"`
	}{prefix})
	if err != nil {
		return err
	}
	for _, k := range keys {
		out = append(out, ",\n"...)
		if out, err = encode(out, k); err != nil {
			return err
		}
	}
	out = append(out, "]\n"...)
	_, err = w.Write(out)
	return err
}

// ReadTransformManifest reads a ManifestFile written by
// WriteTransformManifest (or by hand): its prefix and keys.
func ReadTransformManifest(r io.Reader) (prefix string, keys []string, err error) {
	var elems []json.RawMessage
	if err := json.NewDecoder(r).Decode(&elems); err != nil {
		return "", nil, fmt.Errorf("transform manifest: %w", err)
	}
	if len(elems) == 0 {
		return "", nil, errors.New(`transform manifest: empty array, want [{"prefix":...}, keys...]`)
	}
	var head struct {
		Prefix *string `json:"prefix"`
	}
	if err := json.Unmarshal(elems[0], &head); err != nil || head.Prefix == nil {
		return "", nil, fmt.Errorf(`transform manifest: first element %s, want {"prefix":"s3://bucket/prefix/"}`, elems[0])
	}
	keys = make([]string, 0, len(elems)-1)
	for i, e := range elems[1:] {
		var k string
		if err := json.Unmarshal(e, &k); err != nil {
			return "", nil, fmt.Errorf("transform manifest: element %d is %s, want a key (a string)", i+2, e)
		}
		keys = append(keys, k)
	}
	return *head.Prefix, keys, nil
}

// CommonPrefix returns the longest prefix ending in "/" that every URI
// starts with, so that each URI is the prefix plus a non-empty relative key
// (uri[len(prefix):]). It is false when there is none: no URIs, S3 URIs of
// different buckets, a mix of S3 URIs and local paths or of absolute and
// relative paths, relative paths in different folders of the working
// directory, or a URI that ends in "/" or has another scheme.
//
// The bucket root counts: photos anywhere in one bucket share
// "s3://bucket/". That is safe for a ManifestFile, which lists every key;
// it would not be for an S3Prefix input, which reads everything under the
// prefix. Likewise "/" is the prefix of absolute paths with no other folder
// in common.
//
//	CommonPrefix([]string{"s3://b/in/a/1.jpg", "s3://b/in/b/2.jpg"}) == "s3://b/in/", true
//	CommonPrefix([]string{"s3://b/x.jpg", "s3://c/x.jpg"})           == "", false
func CommonPrefix(uris []string) (string, bool) {
	if len(uris) == 0 {
		return "", false
	}
	kind := uriKind(uris[0])
	if kind == kindOther {
		return "", false
	}
	common := uris[0]
	for _, u := range uris {
		if uriKind(u) != kind || strings.HasSuffix(u, "/") {
			return "", false
		}
		n := 0
		for n < len(common) && n < len(u) && common[n] == u[n] {
			n++
		}
		common = common[:n]
	}
	prefix := common[:strings.LastIndexByte(common, '/')+1]
	switch kind {
	case kindS3:
		// The prefix must hold the bucket: "s3://b1/" and "s3://b2/" share
		// only "s3://".
		if bucket, _, ok := strings.Cut(strings.TrimPrefix(prefix, "s3://"), "/"); !ok || bucket == "" {
			return "", false
		}
	case kindRelative:
		if prefix == "" {
			return "", false
		}
	}
	return prefix, true
}

type kind int

const (
	kindOther kind = iota
	kindS3
	kindAbsolute
	kindRelative
)

func uriKind(u string) kind {
	switch {
	case u == "":
		return kindOther
	case strings.HasPrefix(u, "s3://"):
		return kindS3
	case strings.Contains(u, "://"):
		return kindOther
	case strings.HasPrefix(u, "/"):
		return kindAbsolute
	}
	return kindRelative
}
