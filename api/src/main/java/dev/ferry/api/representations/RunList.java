package dev.ferry.api.representations;

import java.util.List;

/**
 * {@code GET /api/runs}: a page of runs, newest first.
 *
 * @param next the next page's URL, or null on the last page
 */
public record RunList(List<RunSummary> runs, int limit, int offset, String next) {}
