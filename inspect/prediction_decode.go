//go:build predictionjson

package inspect

// parsePrediction is the parser ParsePrediction uses: the hand-written
// scanner, or encoding/json when built with -tags predictionjson.
var parsePrediction = decodePrediction
