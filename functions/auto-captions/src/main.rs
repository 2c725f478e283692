use auto_captions::{Clients, handler};
use lambda_runtime::Error;
use mediaflow_core::transcription::{CaptionLanguage, CaptionSettings, TranscribePrices};
use mediaflow_lambda::runtime;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_from_env().await;
    let clients = runtime::configure(async {
        let enabled = runtime::optional_setting("AUTO_CAPTIONS").is_some_and(|v| v == "true");
        let language = runtime::optional_setting("CAPTION_LANGUAGE").unwrap_or_else(|| "en-US".into());
        let language: CaptionLanguage = language.parse().map_err(|e: mediaflow_core::Error| e.to_string())?;
        // A code Transcribe does not know would be refused at every start: say so once, here.
        if let CaptionLanguage::Code(code) = &language
            && !aws_sdk_transcribe::types::LanguageCode::values().contains(&code.as_str())
        {
            return Err(format!("CAPTION_LANGUAGE {code} is not one of Transcribe's language codes"));
        }
        Ok(Clients {
            s3: mediaflow_lambda::s3_from_env().await,
            transcribe: aws_sdk_transcribe::Client::new(&config),
            settings: CaptionSettings { enabled, language, application: runtime::setting("APPLICATION_NAME")? },
            prices: TranscribePrices::shipped(),
        })
    })
    .await?;
    runtime::run(|input| handler(input, &clients)).await
}
