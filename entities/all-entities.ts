import { AuditLog } from './audit-log.entity';
import { CallbackSignature } from './callback-signature.entity';
import { Contact } from './contact.entity';
import { ContactFollow } from './contact-follow.entity';
import { ContactIdentity } from './contact-identity.entity';
import { ContactSearchTerm } from './contact-search-term.entity';
import { ContactTag } from './contact-tag.entity';
import { ContactTagChange } from './contact-tag-change.entity';
import { OutboxMessage } from './outbox-message.entity';
import { OutboxAttempt } from './outbox-attempt.entity';
import { OutboxLimit } from './outbox-limit.entity';
import { WecomGroupMsgSend } from './wecom-group-msg-send.entity';
import { Broadcast } from './broadcast.entity';
import { SubscribeConsent, SubscribeConsentEvent } from './subscribe-consent.entity';
import { ContactChannelPreference } from './contact-channel-preference.entity';
import { Journey } from './journey.entity';
import { JourneyOpen } from './journey-open.entity';
import { JourneyRun } from './journey-run.entity';
import { JourneyStep } from './journey-step.entity';
import { JourneyVersion } from './journey-version.entity';
import { Interaction } from './interaction.entity';
import { ReactionWork } from './reaction-work.entity';
import { JobCursor } from './job-cursor.entity';
import { JobRun } from './job-run.entity';
import { LoginThrottle } from './login-throttle.entity';
import { Operator } from './operator.entity';
import { OperatorSession } from './operator-session.entity';
import { PlatformToken } from './platform-token.entity';
import { ScoreLedger } from './score-ledger.entity';
import { Segment } from './segment.entity';
import { SegmentMember } from './segment-member.entity';
import { Setting } from './setting.entity';
import { PayOrder } from './pay-order.entity';
import { PayProduct } from './pay-product.entity';
import { PayProductClaim } from './pay-product-claim.entity';
import { StatCount } from './stat-count.entity';
import { StatDelta } from './stat-delta.entity';
import { Tag } from './tag.entity';
import { TagGroup } from './tag-group.entity';
import { TagRule } from './tag-rule.entity';
import { Task } from './task.entity';
import { ContactMqlState } from './contact-mql-state.entity';
import { ContactStageChange } from './contact-stage-change.entity';
import { SalesAssignment } from './sales-assignment.entity';
import { ScoreRule } from './score-rule.entity';
import { ScoreRuleDailyHit } from './score-rule-daily-hit.entity';
import { StageRule } from './stage-rule.entity';
import { OaCustomWindow } from './oa-custom-window.entity';
import { Channel } from './channel.entity';
import { ChannelTouch } from './channel-touch.entity';
import { ChannelWelcome } from './channel-welcome.entity';
import { Event } from './event.entity';
import { EventRegistration } from './event-registration.entity';
import { EventCheckin } from './event-checkin.entity';
import { EventScan } from './event-scan.entity';
import { EventSmsCode } from './event-sms-code.entity';
import { EventVisit } from './event-visit.entity';
import { ContentMaterial } from './content-material.entity';
import { ContentView } from './content-view.entity';
import { Import } from './import.entity';
import { ImportRow } from './import-row.entity';
import { EventReminder } from './event-reminder.entity';
import { EventCloudItem } from './event-cloud-item.entity';
import { EventCloudVisit } from './event-cloud-visit.entity';
import { EventFollowup } from './event-followup.entity';
import { Survey } from './survey.entity';
import { SurveyAnswer } from './survey-answer.entity';
import { MpSession } from './mp-session.entity';
import { MpStaffBinding } from './mp-staff-binding.entity';
import { MpBindingCode } from './mp-binding-code.entity';
import { Card } from './card.entity';
import { CardShare } from './card-share.entity';
import { CardVisitor } from './card-visitor.entity';

/** The list the DataSource registers; one place so both databases see the same model. */
export const ALL_ENTITIES = [
  AuditLog,
  CallbackSignature,
  Contact,
  ContactFollow,
  ContactIdentity,
  ContactSearchTerm,
  ContactTag,
  ContactTagChange,
  OutboxMessage,
  Journey,
  JourneyVersion,
  JourneyRun,
  JourneyStep,
  JourneyOpen,
  ContactChannelPreference,
  Interaction,
  ReactionWork,
  JobCursor,
  JobRun,
  LoginThrottle,
  Operator,
  OperatorSession,
  PlatformToken,
  ScoreLedger,
  Segment,
  SegmentMember,
  Setting,
  StatCount,
  StatDelta,
  Tag,
  TagGroup,
  TagRule,
  Task,
  // Scoring and lifecycle (issue 14 §1, §6).
  ScoreRule,
  ScoreRuleDailyHit,
  StageRule,
  ContactStageChange,
  ContactMqlState,
  SalesAssignment,
  OutboxAttempt,
  OutboxLimit,
  Broadcast,
  // Subscribe-message consent (issue 14 §4, oa_subscribe and mp_subscribe).
  SubscribeConsent,
  SubscribeConsentEvent,
  // The customer-service window of each follower (oa_custom sends).
  OaCustomWindow,
  // WeCom messages through the contact's rep, waiting for the rep's confirmation.
  WecomGroupMsgSend,
  // WeChat Pay (issue 15 §7).
  PayProduct,
  PayProductClaim,
  PayOrder,
  // Channel codes (issue 15 §1).
  Channel,
  ChannelTouch,
  ChannelWelcome,
  // Exhibitions (issue 15 §2-4).
  Event,
  EventRegistration,
  EventCheckin,
  EventScan,
  EventSmsCode,
  EventVisit,
  // The content centre (issue 15 §1b).
  ContentMaterial,
  ContentView,
  // Lead imports (issue 15 §3).
  Import,
  ImportRow,
  EventReminder,
  // The cloud exhibition (issue 15 §4).
  EventCloudItem,
  EventCloudVisit,
  // After the event: surveys and sales follow-ups (issue 15 §5).
  Survey,
  SurveyAnswer,
  EventFollowup,
  // The mini-program's sessions and staff bindings (issue 17 §2-3).
  MpSession,
  MpStaffBinding,
  MpBindingCode,
  // The business card: cards, their share tokens and visitors (issue 17 §1).
  Card,
  CardShare,
  CardVisitor,
];
