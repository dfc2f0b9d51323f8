import CGoRuntime
public enum GoAllocPlaceholder {}
