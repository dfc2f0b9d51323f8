public enum GoLayoutPlaceholder {}
