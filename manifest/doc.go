// Package manifest reads SageMaker Ground Truth output manifests and writes
// what the built-in image-classification algorithm trains on.
//
// It is pure: readers and writers in, values out. It knows nothing of S3,
// SageMaker or the command line.
//
// # Input
//
// A Ground Truth output manifest is JSON Lines: one object per photo with
// "source-ref" (an s3:// URI), and per labelling job a label attribute and
// its "<attribute>-metadata" object. Single-label image classification
// stores the class index (0 or "0"); multi-label stores an array of indices
// with a class-map and confidence-map in the metadata. A line may carry
// several label attributes (chained jobs); Reader picks the one named in
// Options.LabelAttribute, or the only image-classification attribute there
// is. Blank lines, a UTF-8 byte-order mark and CRLF line endings are
// accepted. Lines without the label attribute are reported as unlabelled.
//
// # Errors
//
// Every line that cannot be used is a *LineError naming the line number, the
// field and what was expected. Reading goes on after a LineError, so a caller
// can fail on the first, collect them, or write them to a rejected file.
//
// # Output
//
// Convert streams a whole manifest, on every core, into the labels table
// (labels.parquet), the augmented manifests train.manifest and
// validation.manifest, optional .lst files and a rejected-lines file. The
// train/validation split is keyed on a hash of source-ref, so adding lines
// never moves an earlier line from one split to the other.
package manifest
