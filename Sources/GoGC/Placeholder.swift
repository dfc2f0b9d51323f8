public enum GoGCPlaceholder {}
