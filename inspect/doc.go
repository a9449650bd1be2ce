// Package inspect is the domain of one day's inspection of review photos:
// the reviews whose photos are to be checked, the photos staged for a
// SageMaker Batch Transform job, and the ManifestFile that tells the job
// which photos to read.
//
// # The steps
//
// Stage and CollectPredictions are the stage and predictions steps:
// options in (their flags), the result out, reading and writing through a
// storage.Storage (local folders, S3, or buckets a program opened):
//
//	staged, err := inspect.Stage(ctx, store, inspect.StageOptions{
//		Reviews: "s3://shop/reviews/dt=2026-11-28/reviews.parquet", Day: "2026-11-28",
//		Out: "s3://b/staged/dt=2026-11-28/",
//	})
//	// … a Batch Transform job over staged.ManifestURI (sagemaker.Transform) …
//	preds, err := inspect.CollectPredictions(ctx, store, inspect.CollectOptions{
//		Staged: "s3://b/staged/dt=2026-11-28/", Outputs: "s3://b/outputs/dt=2026-11-28/",
//		Classes: "s3://b/labels/classes.json", Out: "s3://b/predictions/dt=2026-11-28/",
//	})
//
// Below them the package is pure: readers and writers in, values out. It
// knows nothing of SageMaker or the command line.
//
// # Reviews
//
// A review is one row per photo: review_id, review_type ("product" or
// "style"), image_uri, image_index (the photo's place in its review, from 0),
// and the nullable user_id, product_id and created_at. [ReviewsTable] is the
// table reviewlens writes (reviews.parquet); the day's reviews come from
// another team, so [ReadReviewsParquet] also reads a plain Parquet file
// without reviewlens metadata when its columns carry these names (strings
// may be utf8, large_utf8 or dictionary-encoded; image_index any integer
// type; created_at a timestamp of any unit, or a string), and
// [ReadReviewsCSV] reads CSV with a header row.
//
// Every one of the seven columns must be present, in any order; extra
// columns are ignored. In CSV, values are trimmed of surrounding spaces, an
// empty user_id, product_id or created_at is null, created_at is RFC 3339 or
// "2006-01-02 15:04:05" (UTC, fractional seconds allowed), and a UTF-8
// byte-order mark and CRLF line endings are accepted. Times are kept to the
// microsecond, as the tables store them.
//
// A row is valid when review_id is non-empty and usable as a folder name (no
// '/', '\', control characters, "." or ".."), review_type is "product" or
// "style", image_uri is "s3://bucket/key" or a local path (absolute, or
// relative to the working directory; any other scheme, https:// included, is
// refused), image_index is an integer in [0, 2^31), and (review_id,
// image_index) was not seen on an earlier row.
//
// # Staged photos
//
// [StagedTable] (staged.parquet) lists the photos a transform job reads,
// one row per review photo, in review_id then image_index order. input_uri
// is what the job reads (the photo itself, or a copy of it); input_key is
// input_uri relative to the ManifestFile prefix, and output_key, input_key +
// ".out", is where the job leaves the photo's prediction relative to its
// output path (SageMaker keeps an input's path relative to the manifest
// prefix under S3OutputPath and adds ".out": the documented rule, still to
// be confirmed on a real account for nested keys). Several rows may share an
// input_key when reviews share a photo; the photo is transformed once.
//
// # Batch Transform ManifestFile
//
// With S3DataType ManifestFile, a transform job's S3Uri names a JSON array:
// an object giving a prefix, then keys relative to it:
//
//	[{"prefix":"s3://bucket/photos/"},
//	"r1/0.jpg",
//	"r2/0.png"]
//
// [WriteTransformManifest] writes it; [CommonPrefix] finds the prefix that a
// set of photos shares, so that they need not be copied first.
//
// # Predictions
//
// [ParsePrediction] reads one Batch Transform output of the built-in
// image-classification algorithm: {"prediction": [p0, ...]} (Accept
// application/jsonlines), a bare [p0, ...] (a real-time endpoint's answer)
// or one JSON Lines record. The values must be JSON numbers in [0, 1], one
// per class; a sum more than 1e-3 from 1 is flagged in an ok row's reason,
// not refused. The predictions table has one row per staged photo: ok (the
// class, its confidence, the margin to the second class, every
// probability), missing (no output) or invalid (the reason); the
// prediction columns are null on rows that are not ok.
//
// # Errors
//
// A row that cannot be used is a *[RowError] naming the file, the 1-based
// data row (the CSV header is not counted), the column and what was
// expected. Readers go on after a RowError and return them all, so a caller
// can fail on them or write them to a rejected file. A file that cannot be
// read at all (not CSV, not Parquet, a missing or mistyped column, another
// reviewlens table) is a plain error, returned alone.
package inspect
