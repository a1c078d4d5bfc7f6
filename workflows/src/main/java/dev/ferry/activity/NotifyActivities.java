package dev.ferry.activity;

import dev.ferry.model.Notification;
import io.temporal.activity.ActivityInterface;

@ActivityInterface
public interface NotifyActivities {
  /**
   * POSTs the notification as JSON ({@code {"text": ..., "runId": ..., "app": ..., "event":
   * ...}}) to the webhook. A 4xx is final (the webhook is wrong); 5xx and network errors retry.
   */
  void send(Notification notification);
}
