module chainmark/gobaseline

go 1.26
