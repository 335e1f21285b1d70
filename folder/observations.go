package folder

import (
	"fmt"
	"path/filepath"

	"adharvest/sink"
)

// ObservationPart is where the ads rows of part n of a slice are kept when
// the slice starts again (see sink.AdObservations): beside the slice's
// stem, the number of the chain of fetches they came from (the slice's
// restarts until then), so that every replaced chain keeps a file of its
// own and a crash that repeats the copy writes the same file again.
//
//	ad_observations/country_code=FR/20240101-20240101_all-r0002-p00000.parquet
func (f Folder) ObservationPart(partition, stem string, chain, n int) string {
	return filepath.Join(f.PartitionDir(sink.AdObservations, partition), PartName(fmt.Sprintf("%s-r%04d", stem, chain), n, PartExt))
}
