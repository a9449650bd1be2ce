package inspect

// The two parsers behind ParsePrediction, for tests and benchmarks that
// hold them to the same behaviour.
var (
	ScanPrediction   = scanPrediction
	DecodePrediction = decodePrediction
)
