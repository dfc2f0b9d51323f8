module gortbench/gc

go 1.19
