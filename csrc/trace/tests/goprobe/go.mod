module bindlab/goprobe

go 1.19
