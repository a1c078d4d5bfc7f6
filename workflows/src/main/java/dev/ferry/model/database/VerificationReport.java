package dev.ferry.model.database;

import java.util.List;

/**
 * @param tables every table of either side, in name order
 * @param mismatches how many of them do not match
 */
public record VerificationReport(List<TableComparison> tables, int mismatches) {}
