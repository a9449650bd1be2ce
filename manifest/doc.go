// Package manifest reads SageMaker Ground Truth output manifests and writes
// what the built-in image-classification algorithm trains on.
//
// # The step
//
// Prepare is the manifest step: options in (its flags), the result out,
// reading and writing through a storage.Storage (local folders, S3, or
// buckets a program opened):
//
//	prepared, err := manifest.Prepare(ctx, store, manifest.PrepareOptions{
//		In:  "s3://b/groundtruth/output.manifest",
//		Out: "s3://b/labels/", ValidationFraction: 0.2,
//	})
//
// It writes labels.parquet, the augmented manifests, classes.json,
// labels.sample.json, rejected.jsonl and, last, summary.json (Prepared),
// which LoadPrepared reads back for the tune step. Package consolidate
// (manifest/consolidate) labels photos from several inspectors' answers
// first.
//
// Below the step the package is pure: readers and writers in, values out.
// It knows nothing of SageMaker or the command line.
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
