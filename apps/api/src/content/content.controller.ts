import { Body, Controller, Delete, Get, Param, Post, Put, Query, Res, StreamableFile, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, JwtAuthGuard } from '@app/auth';
import { ContentItemDto, ContentService, CreateContentDto, DeletedContentDto, ListContentQueryDto, UpdateContentDto } from '@app/content';
import { HeaderReply, NEXT_PAGE_HEADERS, streamedList } from '../common/paged-list';

@ApiTags('content')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('content')
export class ContentController {
  constructor(private readonly content: ContentService) {}

  @Get()
  @ApiOperation({ summary: "The caller's library, newest first: all of it without `limit` (up to LIST_MAX_ITEMS); X-Next-Cursor and Link rel=next point on" })
  @ApiResponse({ status: 200, type: [ContentItemDto], headers: NEXT_PAGE_HEADERS })
  async list(@CurrentUser() user: AuthUser, @Query() query: ListContentQueryDto, @Res({ passthrough: true }) reply: HeaderReply): Promise<StreamableFile> {
    const page = await this.content.list(user.id, query);
    return streamedList(reply, page, 'content', { search: query.search, limit: query.limit });
  }

  @Get(':id')
  @ApiResponse({ status: 200, type: ContentItemDto })
  @ApiResponse({ status: 404, description: 'No such item in the caller library' })
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<ContentItemDto> {
    return this.content.get(user.id, id);
  }

  @Post()
  @ApiResponse({ status: 201, type: ContentItemDto })
  create(@CurrentUser() user: AuthUser, @Body() body: CreateContentDto): Promise<ContentItemDto> {
    return this.content.create(user.id, body);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Change any of title, type and body' })
  @ApiResponse({ status: 200, type: ContentItemDto })
  @ApiResponse({ status: 404, description: 'No such item in the caller library' })
  update(@CurrentUser() user: AuthUser, @Param('id') id: string, @Body() body: UpdateContentDto): Promise<ContentItemDto> {
    return this.content.update(user.id, id, body);
  }

  @Delete(':id')
  @ApiResponse({ status: 200, type: DeletedContentDto })
  @ApiResponse({ status: 404, description: 'No such item in the caller library' })
  remove(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<DeletedContentDto> {
    return this.content.remove(user.id, id);
  }
}
