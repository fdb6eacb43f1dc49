/**
 * The mock improviser's phrase banks, in English and Japanese (original text written for the
 * mock; nothing translated from a source). {topic} is a word from the premise or the steer,
 * {name} someone on stage. The intent banks write a line that does what a beat's goal asks
 * (beats.ts reads the same intents), as a model that follows its steer would.
 */
import type { BeatIntent } from './beats.ts';

export interface PhraseBank {
  roles: Record<string, string[]>;
  intents: Record<Exclude<BeatIntent, 'any'>, string[]>;
  openers: string[];
  closers: string[];
  fillers: string[];
  /** A mock's faulty run-on: the next speaker's words. */
  runOn: string;
  /** A topic when nothing else is found. */
  plan: string;
}

export const EN_PHRASES: PhraseBank = {
  roles: {
    decision: ['We go by the {topic}, and we go now.', 'Enough talk, {name}. I decide: the {topic}.', 'I will take the {topic} myself.', 'No more waiting. The {topic} it is.', 'Every hour we wait costs us. {name}, are you with me?', 'Then we move at once. The {topic} will not wait.'],
    analysis: ['The {topic} worries me; the odds are poor.', '{name}, what if the {topic} fails us?', 'Numbers first. The {topic} costs us an hour.', 'I doubt the {topic} is safe at night.', 'Three risks with the {topic}. I can name them all.', 'Careful. The {topic} looks better than it is.'],
    intelligence: ['I heard a rumour about the {topic}.', '{name}, look! The {topic} is open.', 'Why is nobody watching the {topic}?', 'Scouts say the {topic} runs at night.', 'Strange. The {topic} was quiet when I passed.', 'Tell me, {name}, who else knows about the {topic}?'],
    coordination: ['Together we can manage the {topic}.', '{name}, breathe. Let us hear everyone first.', 'We agree on the {topic}, then?', 'Thank you, friends. The {topic} can wait a moment.', 'Steady, all of you. The {topic} is a shared choice.', 'I trust you both. Is the {topic} our middle way?'],
    other: ['The {topic}? I have thoughts about that.', '{name}, you are quiet. What about the {topic}?', 'I never liked the {topic}.', 'Well, the {topic} changes everything.', 'Hmm. The {topic} again.', 'Let me say it plainly: the {topic} matters.'],
  },
  intents: {
    propose: ["Let's take the {topic}.", 'How about the {topic}? It is our best way.', 'We should use the {topic}.'],
    warn: ['The {topic} is dangerous. Careful.', 'Beware the {topic}; it could drown us all.', 'I fear the {topic}. Too risky.'],
    ask: ['What about the {topic}?', 'Who here knows the {topic}?'],
    decide: ['It is decided: the {topic}.', 'We go by the {topic}. Agreed.'],
    refuse: ['No. I will not take the {topic}.', 'Never the {topic}. I refuse.'],
  },
  openers: ['', '', '', 'Listen. ', 'Look. ', 'Honestly. ', 'Wait. ', 'Mark my words: ', 'Hear me. ', 'You know what? ', 'Right. ', 'So. '],
  closers: ['', '', '', ' I mean it.', ' Think about it.', ' That is all.', ' Trust me on this.', ' Mark that.', ' Before it is too late.'],
  fillers: ['Sure! Here is my line: ', 'As an AI, ', 'Okay. ', '...'],
  runOn: 'And then what?',
  plan: 'plan',
};

export const JA_PHRASES: PhraseBank = {
  roles: {
    decision: ['{topic}で行く。今すぐだ。', '{name}、話はもう十分だ。{topic}に決めた。', '{topic}は私が引き受ける。', 'もう待たない。{topic}で決まりだ。', '待つほど損をする。{name}、ついてくるか？', 'では今すぐ動こう。{topic}は待ってくれない。'],
    analysis: ['{topic}が気がかりだ。分が悪い。', '{name}、もし{topic}がだめだったら？', 'まず数字だ。{topic}だと一時間かかる。', '夜の{topic}は安全とは思えない。', '{topic}には危険が三つある。全部言える。', '慎重に。{topic}は見かけほど良くない。'],
    intelligence: ['{topic}について噂を聞いた。', '{name}、見て！{topic}が開いている。', 'なぜ誰も{topic}を見張っていないんだ？', '斥候の話では、{topic}は夜に動くらしい。', '妙だな。通ったとき{topic}は静かだった。', '{name}、{topic}のことを他に誰が知っている？'],
    coordination: ['みんなでやれば{topic}もなんとかなる。', '{name}、深呼吸して。まず全員の話を聞こう。', 'では{topic}で合意かな？', 'ありがとう、みんな。{topic}は少し待てる。', '落ち着いて、みんな。{topic}はみんなで決めることだ。', '二人とも信じている。{topic}が真ん中の道かな？'],
    other: ['{topic}か。思うところはある。', '{name}、黙っているね。{topic}はどう思う？', '{topic}はどうも好きになれない。', 'さて、{topic}で全部変わるな。', 'うーん、また{topic}か。', 'はっきり言おう。{topic}は大事だ。'],
  },
  intents: {
    propose: ['{topic}で行こう。', '{topic}はどうだ？一番の道だと思う。', '{topic}を使うべきだ。'],
    warn: ['{topic}は危ない。気をつけて。', '{topic}は危険だ。命取りになる。', '{topic}が怖い。無茶だよ。'],
    ask: ['{topic}はどうなっているの？', '{topic}のこと、誰か知っているか？'],
    decide: ['決めた。{topic}で行くぞ。', '{topic}に賛成だ。決まりだな。'],
    refuse: ['{topic}は嫌だ。', '{topic}には行かない。断る。'],
  },
  openers: ['', '', '', 'いいか、', 'ほら、', '正直に言うと、', 'よく聞け。', 'あのね、', 'そうだな、', 'さあ、'],
  closers: ['', '', '', '本気だよ。', '考えてみて。', '以上だ。', '信じてくれ。', '覚えておいて。', '手遅れになる前に。'],
  fillers: ['はい！私の台詞です：', 'AIとして、', 'わかりました。', '……'],
  runOn: 'それで、どうする？',
  plan: '作戦',
};
