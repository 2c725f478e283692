//! The events an endpoint emits (S3 `Object Created`, MediaConvert `Job State Change`, Step
//! Functions' typed status changes), to every subscriber from when it subscribed: one unbounded
//! channel each, so a slow subscriber loses nothing. A subscriber that has gone is forgotten.

use std::sync::Mutex;

use tokio::sync::mpsc;

pub struct Feed<T>(Mutex<Vec<mpsc::UnboundedSender<T>>>);

impl<T> Default for Feed<T> {
    fn default() -> Self {
        Feed(Mutex::default())
    }
}

impl<T: Clone> Feed<T> {
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<T> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.0.lock().unwrap().push(tx);
        rx
    }

    pub fn send(&self, event: &T) {
        self.0.lock().unwrap().retain(|s| s.send(event.clone()).is_ok());
    }
}
