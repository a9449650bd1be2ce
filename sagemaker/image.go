package sagemaker

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// imageAccounts are the ECR registry accounts of the built-in
// image-classification algorithm, by region (the SageMaker Python SDK's
// image_uri_config/image-classification.json).
var imageAccounts = map[string]string{
	"af-south-1": "455444449433", "ap-east-1": "286214385809", "ap-northeast-1": "501404015308",
	"ap-northeast-2": "306986355934", "ap-northeast-3": "867004704886", "ap-south-1": "991648021394",
	"ap-south-2": "628508329040", "ap-southeast-1": "475088953585", "ap-southeast-2": "544295431143",
	"ap-southeast-3": "951798379941", "ap-southeast-4": "106583098589", "ca-central-1": "469771592824",
	"ca-west-1": "190319476487", "cn-north-1": "390948362332", "cn-northwest-1": "387376663083",
	"eu-central-1": "813361260812", "eu-central-2": "680994064768", "eu-north-1": "669576153137",
	"eu-south-1": "257386234256", "eu-south-2": "104374241257", "eu-west-1": "685385470294",
	"eu-west-2": "644912444149", "eu-west-3": "749696950732", "il-central-1": "898809789911",
	"me-central-1": "272398656194", "me-south-1": "249704162688", "sa-east-1": "855470959533",
	"us-east-1": "811284229777", "us-east-2": "825641698319", "us-gov-east-1": "237065988967",
	"us-gov-west-1": "226302683700", "us-west-1": "632365934929", "us-west-2": "433757028032",
}

// ImageURI returns the training and inference image of the built-in
// image-classification algorithm in region.
func ImageURI(region string) (string, error) {
	account, ok := imageAccounts[region]
	if !ok {
		return "", &SpecError{Field: "region", Value: region, Reason: "the built-in image-classification image is not known there (known: " +
			strings.Join(slices.Sorted(maps.Keys(imageAccounts)), ", ") + "); give the image with --training-image"}
	}
	host := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		host = "amazonaws.com.cn"
	}
	return fmt.Sprintf("%s.dkr.ecr.%s.%s/image-classification:1", account, region, host), nil
}
