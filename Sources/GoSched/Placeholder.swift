public enum GoSchedPlaceholder {}
