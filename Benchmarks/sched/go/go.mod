module benchsched

go 1.19
