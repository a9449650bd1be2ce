// Command reviewlens-predictions is the predictions step alone, for a pod
// image: the same flags as reviewlens predictions.
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/predictionscmd"
)

func main() { cli.Main(cli.SingleApp(predictionscmd.Step)) }
