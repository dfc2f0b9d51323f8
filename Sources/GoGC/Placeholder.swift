// The collector (issue 6) is being built; this file keeps the module non-empty until its sources land.
public enum GoGCPlaceholder {}
