package dev.ferry.model;

public enum Verdict {
  APPROVE,
  REJECT
}
