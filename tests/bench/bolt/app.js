// The Bolt for JavaScript peer of postmortem-bot in the benchmark: a minimal Socket Mode app doing
// the same work for the same input. Every message envelope is acked (Bolt acks Events API
// envelopes itself); a `<@bot> postmortem help` in a DM is answered with chat.postMessage into that
// DM, with a text fallback and a section block like the bot's help. Nothing is stored.
//
// Started by pm_loadgen with SLACK_API_URL, SLACK_BOT_TOKEN and SLACK_APP_TOKEN in the environment.
const { App, LogLevel } = require('@slack/bolt');

const HELP = [
  'Usage: /postmortem start <title> [@user …] [--dm] [--anonymous] [--no-self] [--at <time>]',
  '• join · add @user · remove @user · status · preview · finish · cancel · remind · export · list',
  '• tz <IANA zone> · help',
  'In an interview, reply with your answer, or skip, back, done, stop, private: …',
].join('\n');

const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  appToken: process.env.SLACK_APP_TOKEN,
  socketMode: true,
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
});

app.message(async ({ message, context, say }) => {
  if (message.channel_type !== 'im' || typeof message.text !== 'string') return;
  const prefix = `<@${context.botUserId}> postmortem`;
  if (!message.text.startsWith(prefix)) return;
  const args = message.text.slice(prefix.length).trim();
  if (args !== 'help') return;
  await say({
    text: HELP,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: HELP, verbatim: true } }],
    unfurl_links: false,
    unfurl_media: false,
  });
});

(async () => {
  await app.start();
})();

process.on('SIGTERM', async () => {
  try {
    await app.stop();
  } finally {
    process.exit(0);
  }
});
